/**
 * @module Flags — the flags shared by several commands, defined once so they read the same everywhere.
 */
import { Flag } from "effect/cli"
import { MIN_POLL_MS } from "../workflow/RunRollback.ts"

/** `--config FILE`. */
export const config = Flag.String("config").pipe(Flag.withDescription("YAML config file; default $FLEET_ROLLBACK_CONFIG, else the first of ./fleet-rollback.yaml, $XDG_CONFIG_HOME/fleet-rollback/config.yaml (~/.config), /etc/fleet-rollback/config.yaml; flags win over it"), Flag.optional)
/**
 * A description and a default that `--help` shows: effect/cli's help has no place for a flag's
 * default, so it goes at the end of the description, from the same value the flag uses.
 */
export const describedWithDefault = <const B extends string | number>(description: string, value: B) => <A>(self: Flag.Flag<A>): Flag.Flag<A | B> =>
  self.pipe(Flag.withDescription(`${description} (default: ${value})`), Flag.withDefault(value))

/** `--file rollback.json`. */
export const file = Flag.String("file").pipe(describedWithDefault("rollback.json written by `get`", "rollback.json"))
/** `--point P`. */
export const point = Flag.String("point").pipe(Flag.withDescription("a label printed by `choices`, an ISO-8601 instant, or a date YYYY-MM-DD (end of that day)"))
/** `--tz ZONE`. */
export const tz = Flag.String("tz").pipe(Flag.withDescription("IANA time zone for dates and labels (default: the file's, else UTC)"), Flag.optional)
/** `--env NAME`. */
export const env = Flag.String("env").pipe(Flag.withDescription("environment (prod, stage, dev): picks the tag filter and Marathon scope from the config"), Flag.optional)
/** `--json`. */
export const json = Flag.Boolean("json").pipe(Flag.withDescription("print JSON for programs instead of a table"), Flag.withDefault(false))
/** `--quiet`. */
export const quiet = Flag.Boolean("quiet").pipe(Flag.withAlias("q"), Flag.withDescription("print only results and errors"), Flag.withDefault(false))
/** `--verbose`. */
export const verbose = Flag.Boolean("verbose").pipe(Flag.withDescription("print more detail"), Flag.withDefault(false))
/** `--ca-file FILE`. */
export const caFile = Flag.String("ca-file").pipe(Flag.withDescription("extra CA certificates (PEM) to trust, besides the system's"), Flag.optional)
/** `--insecure-skip-verify`. */
export const insecureSkipVerify = Flag.Boolean("insecure-skip-verify").pipe(Flag.withDescription("DANGEROUS: do not verify TLS certificates"), Flag.withDefault(false))
/** `--marathon URL`. */
export const marathon = Flag.String("marathon").pipe(Flag.withDescription("Marathon URL (token: MARATHON_TOKEN; basic: MARATHON_USERNAME + MARATHON_PASSWORD)"), Flag.optional)
/** `--dcos URL`. */
export const dcos = Flag.String("dcos").pipe(Flag.withDescription("DC/OS cluster URL (login: DCOS_PASSWORD or DCOS_PRIVATE_KEY_FILE)"), Flag.optional)
/** `--dcos-uid UID`. */
export const dcosUid = Flag.String("dcos-uid").pipe(Flag.withDescription("DC/OS user or service account id (or DCOS_UID)"), Flag.optional)
/** `--app-prefix /shop/prod/`. */
export const appPrefix = Flag.String("app-prefix").pipe(Flag.withDescription("only Marathon apps in this group and its subgroups (/shop/prod holds /shop/prod/api, not /shop/production/api)"), Flag.optional)
/** `--label SELECTOR`. */
export const label = Flag.String("label").pipe(Flag.withDescription("only Marathon apps matching this label selector (env==prod)"), Flag.optional)
/** `--pin-digest`. */
export const pinDigest = Flag.Boolean("pin-digest").pipe(Flag.withDescription("deploy repository:tag@sha256:… (the digest recorded by `get`)"), Flag.withDefault(false))
/** `--allow-partial` (run; plan shows whether run would refuse without it). */
export const allowPartial = Flag.Boolean("allow-partial").pipe(Flag.withDescription("roll back even if some services have no image at the point (they are left as they are)"), Flag.withDefault(false))
/** `--allow-forward` (run; plan shows whether run would refuse without it). */
export const allowForward = Flag.Boolean("allow-forward").pipe(Flag.withDescription("allow targets newer than what runs"), Flag.withDefault(false))
/** `--bad-tag a,b`. */
export const badTag = Flag.String("bad-tag").pipe(Flag.withDescription("tags never to select: tag or service:tag, comma separated"), Flag.optional)
/** `--registry URL`. */
export const registry = Flag.String("registry").pipe(Flag.withDescription("registry URL, e.g. https://registry.example.com (credentials: REGISTRY_USERNAME + REGISTRY_PASSWORD, else docker/podman login: README \"Registry credentials\")"), Flag.optional)
/** `--request-timeout SECONDS`: how long one registry request may take, its whole answer included. */
export const requestTimeout = Flag.Int("request-timeout").pipe(
  Flag.withDescription("seconds one registry request may take, its whole answer included, before it is retried (4 retries); default 30"),
  Flag.filter((seconds) => seconds >= 1 && seconds <= 600, () => "1 to 600 (seconds one registry request may take; default 30)"),
  Flag.optional
)
/** `--user NAME`. */
export const user = Flag.String("user").pipe(Flag.withDescription("who runs this, for the report and Slack (default BUILD_USER_ID, else USER)"), Flag.optional)
/** `--yes`. */
export const yes = Flag.Boolean("yes").pipe(Flag.withAlias("y"), Flag.withDescription("do not ask for confirmation"), Flag.withDefault(false))
/** `--timeout SECONDS`. */
export const timeout = Flag.Int("timeout").pipe(
  Flag.withDescription("seconds to wait for the deployment (Marathon has no timeout of its own); default 600"),
  Flag.filter((seconds) => seconds >= 1, () => "at least 1 (seconds to wait for the deployment; default 600). Nothing was changed"),
  Flag.optional
)
/** `--poll-ms MS`: at least {@link MIN_POLL_MS} (a shorter interval floods the orchestrator mid-incident). */
export const pollMs = Flag.Int("poll-ms").pipe(
  Flag.withDescription(`how often to check the rollout, milliseconds (Kubernetes and Swarm also follow their events), at least ${MIN_POLL_MS}; default 1000`),
  Flag.filter(
    (ms) => ms >= MIN_POLL_MS,
    () => `at least ${MIN_POLL_MS} (milliseconds between two checks of the rollout; default 1000): a shorter interval floods the orchestrator with requests mid-incident. Nothing was changed`
  ),
  Flag.optional
)
/** `--force`. */
export const force = Flag.Boolean("force").pipe(Flag.withDescription("override Marathon's deployment lock (force=true)"), Flag.withDefault(false))
/** `--revert-on-failure`. */
export const revertOnFailure = Flag.Boolean("revert-on-failure").pipe(Flag.withDescription("cancel a failed or timed-out deployment with Marathon's rollback and wait for it"), Flag.withDefault(false))
/** `--last N` of `get`. */
export const last = Flag.Int("last").pipe(
  Flag.withDescription("per repository only the N newest tags, by the tag's build number, timestamp or version (only about N manifests are read); a scheme without those reads every tag and keeps the N newest by date"),
  Flag.optional
)

/** `--target KIND`: the deployment target (default: marathon, or dcos with --dcos / dcos.url). */
export const target = Flag.String("target").pipe(
  Flag.withDescription("the deployment target: marathon, dcos, swarm, kubernetes, gitops, pulumi, openshift (default: marathon, or dcos with --dcos; or target.kind in the config)"),
  Flag.optional
)
/** `--target-from-report` (undo): go to the target the report names, with the credentials configured for that kind. */
export const targetFromReport = Flag.Boolean("target-from-report").pipe(
  Flag.withDescription("undo on the target the report names even though no flag or config names it (credentials from the environment are then sent there)"),
  Flag.withDefault(false)
)

/** `--stack NAME` (swarm: the services of this stack; pulumi: the stack whose config holds the image tag). */
export const stack = Flag.String("stack").pipe(
  Flag.withDescription("Docker Swarm: only the services of this stack (label com.docker.stack.namespace=NAME); the engine is DOCKER_HOST. Pulumi: the stack (its settings file Pulumi.<stack>.yaml holds the image tag)"),
  Flag.optional
)
/** `--namespace NS` (repeatable, kubernetes): the namespaces in scope (default: the context's, else `default`). */
export const namespace = Flag.String("namespace").pipe(
  Flag.withDescription("Kubernetes: a namespace in scope; repeat for several (default: the kubeconfig context's namespace, else default; or target.namespaces in the config)"),
  Flag.atLeast(0)
)
/** `--context NAME` (kubernetes): the kubeconfig context (default: its current-context). */
export const context = Flag.String("context").pipe(
  Flag.withDescription("Kubernetes: the kubeconfig context to use (default: current-context; the kubeconfig is KUBECONFIG, else ~/.kube/config, else the pod's service account)"),
  Flag.optional
)
/** `--label-selector …` (swarm, kubernetes): only the workloads with these labels are in scope. */
export const labelSelector = Flag.String("label-selector").pipe(
  Flag.withDescription("only the workloads with these labels: Docker Swarm key or key=value, comma separated, all must hold; Kubernetes as kubectl -l takes them (tier=web,env in (prod))"),
  Flag.optional
)
/** `--repo-url URL` (gitops, pulumi): the Git repository, cloned into the cache. */
export const repoUrl = Flag.String("repo-url").pipe(
  Flag.withDescription("gitops, pulumi: the Git repository's URL, cloned into the cache (git's own credential helper or SSH agent; never a password in the URL)"),
  Flag.optional
)
/** `--repo-path DIR` (gitops, pulumi): a local clone of the repository; its work tree is never touched. */
export const repoPath = Flag.String("repo-path").pipe(Flag.withDescription("gitops, pulumi: a local clone of the repository (its work tree, index and branch are not touched)"), Flag.optional)
/** `--branch NAME` (gitops, pulumi): the branch the cluster (or deploys) follow. */
export const branch = Flag.String("branch").pipe(Flag.withDescription("gitops, pulumi: the branch the cluster or the deploys follow (default main)"), Flag.optional)
/** `--strategy set|revert` (gitops). */
export const strategy = Flag.String("strategy").pipe(
  Flag.withDescription("gitops: set (default: write the target tags) or revert (git revert the commits that changed the image lines since they declared the targets)"),
  Flag.optional
)
/** `--push-to-branch` (gitops, pulumi): commit to the tracked branch instead of a new rollback/<point> branch. */
export const pushToBranch = Flag.Boolean("push-to-branch").pipe(
  Flag.withDescription("gitops, pulumi: commit to the tracked branch itself instead of a new branch rollback/<point> for review (refused when the branch moved since the plan)"),
  Flag.withDefault(false)
)
/** `--hold` (gitops): turn Flux image-automation setter markers on the changed lines off in the same commit. */
export const hold = Flag.Boolean("hold").pipe(
  Flag.withDescription("gitops: turn Flux image-automation setter markers on the changed lines off in the same commit, so Flux does not set the tags back (undo turns them on)"),
  Flag.withDefault(false)
)
/** `--wait-on kubernetes` (gitops): wait until the cluster runs the committed images. */
export const waitOn = Flag.String("wait-on").pipe(
  Flag.withDescription("gitops: kubernetes = wait until the cluster (the Kubernetes target's settings) runs the committed images; without it the run ends at committed and pushed"),
  Flag.optional
)

/**
 * The flags that say where the deployment target is and how to reach it, on plan, run, undo and
 * demo. A target adds its own flags HERE (one entry each), so every command gets them and its
 * builder (lib/cli/targets/<kind>.ts) reads them from {@link TargetFlagValues}.
 */
export const targetFlags = {
  target,
  marathon,
  dcos,
  dcosUid,
  caFile,
  insecureSkipVerify,
  stack,
  labelSelector,
  namespace,
  context,
  repoUrl,
  repoPath,
  branch,
  strategy,
  pushToBranch,
  hold,
  waitOn
}

/** The parsed values of {@link targetFlags}, as a builder receives them. */
export type TargetFlagValues = {
  readonly [K in keyof typeof targetFlags]: (typeof targetFlags)[K] extends Flag.Flag<infer A> ? A : never
}
/** `--known-good`: how long a set must have run to be named as the known-good point (history timelines). */
export const knownGood = Flag.String("known-good").pipe(
  Flag.withDescription("on a history timeline (get --from history), name the newest earlier set that ran at least this long (24h, 3d); default 24h"),
  Flag.optional
)

/** `--server-dry-run` (plan): the target validates the changes without applying them, where it can. */
export const serverDryRun = Flag.Boolean("server-dry-run").pipe(
  Flag.withDescription("also have the target validate the changes without applying them (targets that can; not Marathon)"),
  Flag.withDefault(false)
)
