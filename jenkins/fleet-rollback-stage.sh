#!/bin/sh
# @module fleet-rollback-stage.sh — the shell side of jenkins/Jenkinsfile, one stage per call.
#
# Usage: fleet-rollback-stage.sh get | choices | plan | run | undo-summary | undo | fleet-state | notify-failure
#
# Every value comes from an environment variable, never from an argument, so the Jenkinsfile
# can pass user input (the chosen point, the approver) and secrets without interpolating them
# into a shell command line. Tests run this very script with the environment the pipeline sets.
#
# Environment (empty = not passed, the CLI or its config file decides):
#   FLEET_ROLLBACK              the fleet-rollback executable. Default: `fleet-rollback` on PATH,
#                               else this checkout (`npm ci` done): scripts/fleet-rollback.js
#                               (needs Node >= 22.19 on PATH).
#   FLEET_ROLLBACK_CONFIG       config file; default ./fleet-rollback.yaml if it exists (get, plan, run)
#   FLEET_ROLLBACK_ENV          environment name: dev | stage | prod     (get)
#   FLEET_ROLLBACK_REGISTRY     registry URL                             (get)
#   FLEET_ROLLBACK_REPOS        repositories, comma-separated            (get)
#   FLEET_ROLLBACK_GRANULARITY  day | instant                            (get)
#   FLEET_ROLLBACK_TZ           time zone of day labels, e.g. Europe/Berlin (get)
#   FLEET_ROLLBACK_MARATHON     Marathon URL                             (plan, run, undo)
#   FLEET_ROLLBACK_TARGET       --target: marathon | dcos | swarm | kubernetes | gitops | pulumi | openshift
#   FLEET_ROLLBACK_STACK, FLEET_ROLLBACK_NAMESPACE, FLEET_ROLLBACK_CONTEXT
#                               the target's settings: --stack, --namespace, --context (plan, run, undo)
#   FLEET_ROLLBACK_PIN_DIGEST   `true`: --pin-digest                     (plan, run)
#   FLEET_ROLLBACK_TIMEOUT      seconds to wait for the deployment: --timeout (run, undo)
#   ROLLBACK_FILE               rollback.json path, default rollback.json
#   ROLLBACK_PLAN               where `plan` writes `plan --json`, default rollback-plan.json
#   ROLLBACK_REPORT             report path, default rollback-report.json (run; fleet-state)
#   ROLLBACK_POINT              the chosen point, a label printed by `choices` (plan, run)
#   ROLLBACK_APPROVER           who approved the rollback, recorded as --user (run, undo)
#   FLEET_ROLLBACK_ALLOW_PARTIAL, FLEET_ROLLBACK_ALLOW_FORWARD   `true` to pass the flag (plan, run)
#   FLEET_ROLLBACK_REVERT_ON_FAILURE   `true`: --revert-on-failure      (run, undo)
#   UNDO_REPORT                 the earlier build's report that `undo` reverses (undo-summary, undo)
#   UNDO_OUT                    the undo's own report, default rollback-undo-report.json (undo; fleet-state)
#   FLEET_ROLLBACK_UNDO_TARGET_FROM_REPORT  `true`: --target-from-report (undo goes to the target the
#                               report names when no flag or config names one; opt-in, as credentials go there)
#   FLEET_ROLLBACK_MODE         `undo`: fleet-state reads UNDO_OUT instead of ROLLBACK_REPORT
#   FLEET_ROLLBACK_LOCK_FILE    the lock `run` and `undo` hold while they change the fleet, shared
#                               with the Ansible role (same file on the same machine); default
#                               /var/lock/fleet-rollback.lock; `none` = no lock
#   Secrets, read by fleet-rollback itself and never echoed here: REGISTRY_USERNAME,
#   REGISTRY_PASSWORD, MARATHON_TOKEN, MARATHON_USERNAME, MARATHON_PASSWORD, DCOS_PASSWORD,
#   DCOS_PRIVATE_KEY_FILE, SLACK_WEBHOOK_URL.
#   notify-failure also reads JOB_NAME, BUILD_NUMBER, BUILD_URL (set by Jenkins).
#
# Exit codes: those of fleet-rollback (0 ok, 1 failed, 2 bad input); 2 for a bad call of this
# script; 75 when another rollback holds the lock.
set -eu

stage="${1:-}"
here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd -P)
root=$(dirname -- "$here")

fail() {
  echo "fleet-rollback-stage: $*" >&2
  exit 2
}

# Node >= 22.19 is what the project supports; agents often ship Node 20, so say it clearly.
check_node() {
  command -v node >/dev/null 2>&1 || fail "node is not on PATH; the agent needs Node >= 22.19 (see jenkins/README.md)"
  version=$(node -p 'process.versions.node') || fail "could not run node"
  major=${version%%.*}
  rest=${version#*.}
  minor=${rest%%.*}
  if [ "$major" -lt 22 ] || { [ "$major" -eq 22 ] && [ "$minor" -lt 19 ]; }; then
    fail "node $version is on PATH, fleet-rollback needs Node >= 22.19 (see jenkins/README.md)"
  fi
}

# Sets the positional parameters to the fleet-rollback command; flags are appended after it.
use_fleet_rollback() {
  if [ -n "${FLEET_ROLLBACK:-}" ]; then
    set -- "$FLEET_ROLLBACK"
  elif command -v fleet-rollback >/dev/null 2>&1; then
    set -- fleet-rollback
  elif [ -d "$root/node_modules/effect" ] && [ -f "$root/scripts/fleet-rollback.js" ]; then
    check_node
    # executed: its first lines start the checked node on PATH with the bin's V8 flag
    set -- "$root/scripts/fleet-rollback.js"
  else
    fail "fleet-rollback not found: set FLEET_ROLLBACK, install it (npm install -g fleet-rollback-*.tgz), or run 'npm ci' in $root"
  fi
  command_line_length=$#
  command_1=$1
  command_2=${2:-}
}

# Runs fleet-rollback with the flags given, after the command found by use_fleet_rollback.
fleet_rollback() {
  if [ "$command_line_length" -eq 2 ]; then
    exec "$command_1" "$command_2" "$@"
  fi
  exec "$command_1" "$@"
}

# Runs fleet-rollback with the flags given plus the target, its settings, the config file and
# the Marathon URL when they are set (plan, run, undo). POSIX sh has no arrays: the flags travel
# as positional parameters, each one argument, never split or glob-expanded.
with_target_flags() {
  [ -z "${FLEET_ROLLBACK_TARGET:-}" ] || set -- "$@" --target "$FLEET_ROLLBACK_TARGET"
  [ -z "${FLEET_ROLLBACK_STACK:-}" ] || set -- "$@" --stack "$FLEET_ROLLBACK_STACK"
  [ -z "${FLEET_ROLLBACK_NAMESPACE:-}" ] || set -- "$@" --namespace "$FLEET_ROLLBACK_NAMESPACE"
  [ -z "${FLEET_ROLLBACK_CONTEXT:-}" ] || set -- "$@" --context "$FLEET_ROLLBACK_CONTEXT"
  [ -z "${FLEET_ROLLBACK_CONFIG:-}" ] || set -- "$@" --config "$FLEET_ROLLBACK_CONFIG"
  [ -z "${FLEET_ROLLBACK_MARATHON:-}" ] || set -- "$@" --marathon "$FLEET_ROLLBACK_MARATHON"
  fleet_rollback_locked "$@"
}

# Takes the lock shared with the Ansible role (FLEET_ROLLBACK_LOCK_FILE) for the commands that
# change the fleet, then runs fleet-rollback with the flags given. The lock is an flock(1) on a
# file descriptor that fleet-rollback inherits: it lasts exactly as long as fleet-rollback runs,
# also if this shell is killed first. Another holder = exit 75 at once, nothing changed.
fleet_rollback_locked() {
  if [ "$locking" = true ] && [ "${FLEET_ROLLBACK_LOCK_FILE:-}" != none ]; then
    lock_file=${FLEET_ROLLBACK_LOCK_FILE:-/var/lock/fleet-rollback.lock}
    command -v flock >/dev/null 2>&1 || fail "flock is not on PATH (Debian: util-linux; BusyBox has it too): it takes the lock $lock_file shared with the Ansible role. Install it, or set FLEET_ROLLBACK_LOCK_FILE=none to run without the lock"
    # shellcheck disable=SC3023
    { exec 9>>"$lock_file"; } 2>/dev/null || fail "cannot open the lock file $lock_file (its directory must exist and be writable by this user); set FLEET_ROLLBACK_LOCK_FILE to another path, or none"
    if ! flock -n 9; then
      echo "fleet-rollback-stage: another rollback (a Jenkins build or an Ansible play) holds the lock $lock_file; nothing was changed. Wait for it to finish, then build again." >&2
      exit 75
    fi
    echo "fleet-rollback-stage: holding the lock $lock_file"
  fi
  fleet_rollback "$@"
}
locking=false

# The config file: FLEET_ROLLBACK_CONFIG, else fleet-rollback.yaml in the workspace when there is one.
if [ -z "${FLEET_ROLLBACK_CONFIG:-}" ] && [ -f fleet-rollback.yaml ]; then
  FLEET_ROLLBACK_CONFIG=fleet-rollback.yaml
fi

rollback_file="${ROLLBACK_FILE:-rollback.json}"
rollback_report="${ROLLBACK_REPORT:-rollback-report.json}"
rollback_plan="${ROLLBACK_PLAN:-rollback-plan.json}"
undo_out="${UNDO_OUT:-rollback-undo-report.json}"

require_undo_report() {
  [ -n "${UNDO_REPORT:-}" ] || fail "UNDO_REPORT is empty: name the report of the rollback to undo"
  [ -f "$UNDO_REPORT" ] || fail "$UNDO_REPORT does not exist: copy the report of the earlier build first"
}

# Prints, for a person, the summary of a plan (`plan --json`), of what an undo would put back
# (a run's report) or of the state a report leaves the fleet in. Node reads the JSON (it runs
# fleet-rollback anyway); the text is what the Jenkins question and log show.
summarise() {
  check_node
  node --input-type=module -e "$summary_program" "$1" "$2"
}
summary_program='
import { readFileSync } from "node:fs"
const [kind, path] = process.argv.slice(1)
let data
try { data = JSON.parse(readFileSync(path, "utf8")) } catch (error) {
  console.error(`fleet-rollback-stage: cannot read ${path}: ${error.message}`); process.exit(2)
}
const services = Array.isArray(data.services) ? data.services : []
const where = (s) => s.app ?? s.workload ?? null
const line = (s, text) => `  - ${s.service}${where(s) ? ` (${where(s)})` : ""}: ${text}`
const out = []
const group = (title, list, text) => { if (list.length > 0) out.push(`${title} (${list.length}):`, ...list.map((s) => line(s, text(s)))) }
if (kind === "plan") {
  out.push(`Point: ${data.label ? `${data.label} (${data.point})` : data.point}`)
  const by = (action) => services.filter((s) => s.action === action)
  group("Rolls back", by("rollback"), (s) => `${s.current ?? "?"} -> ${s.target}`)
  group("Moves FORWARD to a newer image", by("forward"), (s) => `${s.current ?? "?"} -> ${s.target}`)
  group("Unresolved, left as they are", by("unresolved"), (s) => s.reason ?? "no image at or before the point")
  group("Unchanged", by("unchanged"), (s) => s.current ?? "")
  const changes = by("rollback").length + by("forward").length
  // what run would refuse, as fleet-rollback itself says (plan got the same --allow-* flags as run)
  // a fleet-rollback older than this script has no wouldRefuse: stop rather than ask to approve a run it may refuse
  const refusals = !Array.isArray(data.wouldRefuse)
    ? ["this fleet-rollback is older than the stage script (its plan --json has no wouldRefuse), so it cannot say whether run would refuse; use the fleet-rollback of this checkout (or set FLEET_ROLLBACK to a matching one)"]
    : data.wouldRefuse.map((r) => `${String(r.message).split("\n")[0].replace(/:\s*$/, "")} (${(r.services ?? []).join(", ")})`)
  if (refusals.length > 0) out.push(`The rollback will REFUSE and change nothing: ${refusals.join("; ")}. (--allow-partial is the ALLOW_PARTIAL parameter; --allow-forward is FLEET_ROLLBACK_ALLOW_FORWARD=true)`)
  else out.push(changes === 0 ? "Nothing would change." : `${changes} service(s) would change.`)
} else if (kind === "undo") {
  out.push(`Undo the ${data.kind ?? "run"} by ${data.user ?? "?"} at ${data.finishedAt ?? "?"} (point ${data.label ?? data.point ?? "?"}, outcome ${data.outcome ?? "?"})`)
  const changed = services.filter((s) => ["rolled-back", "failed", "reverted", "unknown"].includes(s.outcome))
  group("Puts back", changed, (s) => `${s.target ?? s.after ?? "?"} -> ${s.before ?? "?"} (${s.outcome})`)
  out.push(changed.length === 0 ? "That run changed nothing: there is nothing to undo." : `${changed.length} service(s) would change.`)
} else {
  out.push(`The ${data.kind ?? "run"} ended: ${data.outcome ?? "?"}. ${data.message ?? ""}`.trim())
  const runs = (s) => s.after ?? "unknown (check it)"
  group("Changed", services.filter((s) => s.outcome === "rolled-back"), (s) => `now ${runs(s)} (was ${s.before ?? "?"})`)
  group("FAILED or unknown: check these", services.filter((s) => s.outcome === "failed" || s.outcome === "unknown"), (s) => `${s.outcome}, now ${runs(s)}${s.problem ? `: ${s.problem}` : ""}`)
  group("Reverted to what ran before", services.filter((s) => s.outcome === "reverted"), (s) => `now ${runs(s)}`)
  group("Not touched", services.filter((s) => ["unchanged", "left-as-is", "not-started"].includes(s.outcome)), (s) => `${s.outcome}, runs ${s.before ?? "?"}`)
}
console.log(out.join("\n"))
'

require_point() {
  [ -n "${ROLLBACK_POINT:-}" ] || fail "ROLLBACK_POINT is empty: choose a point printed by 'choices'"
  [ -f "$rollback_file" ] || fail "$rollback_file does not exist: run the 'get' stage first"
}

case "$stage" in
  get)
    use_fleet_rollback
    set -- get --out "$rollback_file"
    [ -z "${FLEET_ROLLBACK_CONFIG:-}" ] || set -- "$@" --config "$FLEET_ROLLBACK_CONFIG"
    [ -z "${FLEET_ROLLBACK_REGISTRY:-}" ] || set -- "$@" --registry "$FLEET_ROLLBACK_REGISTRY"
    [ -z "${FLEET_ROLLBACK_REPOS:-}" ] || set -- "$@" --repo "$FLEET_ROLLBACK_REPOS"
    [ -z "${FLEET_ROLLBACK_ENV:-}" ] || set -- "$@" --env "$FLEET_ROLLBACK_ENV"
    [ -z "${FLEET_ROLLBACK_GRANULARITY:-}" ] || set -- "$@" --granularity "$FLEET_ROLLBACK_GRANULARITY"
    [ -z "${FLEET_ROLLBACK_TZ:-}" ] || set -- "$@" --tz "$FLEET_ROLLBACK_TZ"
    fleet_rollback "$@"
    ;;
  choices)
    [ -f "$rollback_file" ] || fail "$rollback_file does not exist: run the 'get' stage first"
    use_fleet_rollback
    fleet_rollback choices --file "$rollback_file"
    ;;
  plan)
    # `plan --json` into $ROLLBACK_PLAN (archived; the question shows its summary), then the
    # summary on stdout. A failed plan leaves no plan file behind.
    require_point
    rm -f -- "$rollback_plan"
    (
      use_fleet_rollback
      set -- plan --file "$rollback_file" --point "$ROLLBACK_POINT" --json
      # run's --allow-* switches, so that the plan says whether run would refuse (wouldRefuse)
      [ "${FLEET_ROLLBACK_ALLOW_PARTIAL:-false}" != "true" ] || set -- "$@" --allow-partial
      [ "${FLEET_ROLLBACK_ALLOW_FORWARD:-false}" != "true" ] || set -- "$@" --allow-forward
      [ "${FLEET_ROLLBACK_PIN_DIGEST:-false}" != "true" ] || set -- "$@" --pin-digest
      with_target_flags "$@"
    ) > "$rollback_plan.partial" || { code=$?; rm -f -- "$rollback_plan.partial"; exit "$code"; }
    mv -f -- "$rollback_plan.partial" "$rollback_plan"
    summarise plan "$rollback_plan"
    ;;
  run)
    require_point
    use_fleet_rollback
    set -- run --file "$rollback_file" --point "$ROLLBACK_POINT" --yes --report "$rollback_report"
    [ -z "${ROLLBACK_APPROVER:-}" ] || set -- "$@" --user "$ROLLBACK_APPROVER"
    [ "${FLEET_ROLLBACK_ALLOW_PARTIAL:-false}" != "true" ] || set -- "$@" --allow-partial
    [ "${FLEET_ROLLBACK_ALLOW_FORWARD:-false}" != "true" ] || set -- "$@" --allow-forward
    [ "${FLEET_ROLLBACK_REVERT_ON_FAILURE:-false}" != "true" ] || set -- "$@" --revert-on-failure
    [ "${FLEET_ROLLBACK_PIN_DIGEST:-false}" != "true" ] || set -- "$@" --pin-digest
    [ -z "${FLEET_ROLLBACK_TIMEOUT:-}" ] || set -- "$@" --timeout "$FLEET_ROLLBACK_TIMEOUT"
    locking=true
    with_target_flags "$@"
    ;;
  undo-summary)
    require_undo_report
    summarise undo "$UNDO_REPORT"
    ;;
  undo)
    require_undo_report
    use_fleet_rollback
    set -- undo --report "$UNDO_REPORT" --out "$undo_out" --yes
    [ -z "${ROLLBACK_APPROVER:-}" ] || set -- "$@" --user "$ROLLBACK_APPROVER"
    [ "${FLEET_ROLLBACK_REVERT_ON_FAILURE:-false}" != "true" ] || set -- "$@" --revert-on-failure
    [ -z "${FLEET_ROLLBACK_TIMEOUT:-}" ] || set -- "$@" --timeout "$FLEET_ROLLBACK_TIMEOUT"
    [ "${FLEET_ROLLBACK_UNDO_TARGET_FROM_REPORT:-false}" != "true" ] || set -- "$@" --target-from-report
    locking=true
    with_target_flags "$@"
    ;;
  fleet-state)
    # What state the fleet is in after an aborted build, from the report if one was written.
    if [ "${FLEET_ROLLBACK_MODE:-rollback}" = undo ]; then state_report=$undo_out; else state_report=$rollback_report; fi
    if [ -f "$state_report" ]; then
      summarise state "$state_report"
    else
      echo "No report was written ($state_report is missing): fleet-rollback was stopped before it could tell what it changed. The fleet may be partly changed: check every service on the target (fleet-rollback plan shows what runs now) before building again."
    fi
    ;;
  notify-failure)
    # Posts one Slack message; the webhook URL is a secret: it goes to node through the
    # environment and is never printed. Without a webhook this is a no-op.
    if [ -z "${SLACK_WEBHOOK_URL:-}" ] && [ -n "${SLACK_WEBHOOK_URL_FILE:-}" ]; then
      SLACK_WEBHOOK_URL=$(cat -- "$SLACK_WEBHOOK_URL_FILE")
      export SLACK_WEBHOOK_URL
    fi
    if [ -z "${SLACK_WEBHOOK_URL:-}" ]; then
      echo "fleet-rollback-stage: no SLACK_WEBHOOK_URL, failure not sent to Slack"
      exit 0
    fi
    check_node
    exec node --input-type=module -e '
      const env = process.env
      const where = env.FLEET_ROLLBACK_ENV ? ` in ${env.FLEET_ROLLBACK_ENV}` : ""
      const point = env.ROLLBACK_POINT ? ` (point ${env.ROLLBACK_POINT})` : ""
      const build = `${env.JOB_NAME ?? "fleet-rollback"} #${env.BUILD_NUMBER ?? "?"}`
      const text = `:x: Fleet rollback ${build} failed${where}${point}. ${env.BUILD_URL ?? ""}`.trim()
      try {
        const response = await fetch(env.SLACK_WEBHOOK_URL, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ text }),
          signal: AbortSignal.timeout(10_000)
        })
        if (!response.ok) {
          console.error(`fleet-rollback-stage: Slack answered ${response.status}; failure not notified`)
          process.exit(1)
        }
        console.log("fleet-rollback-stage: failure sent to Slack")
      } catch (error) {
        console.error(`fleet-rollback-stage: could not reach Slack (${error?.cause?.code ?? error?.name ?? "error"}); failure not notified`)
        process.exit(1)
      }
    '
    ;;
  *)
    fail "unknown stage '${stage}': use get, choices, plan, run, undo-summary, undo, fleet-state or notify-failure"
    ;;
esac
