#!/bin/sh
# @module fleet-rollback-stage.sh — the shell side of jenkins/Jenkinsfile, one stage per call.
#
# Usage: fleet-rollback-stage.sh get | choices | plan | run | notify-failure
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
#   FLEET_ROLLBACK_MARATHON     Marathon URL                             (plan, run)
#   ROLLBACK_FILE               rollback.json path, default rollback.json
#   ROLLBACK_REPORT             report path, default rollback-report.json (run)
#   ROLLBACK_POINT              the chosen point, a label printed by `choices` (plan, run)
#   ROLLBACK_APPROVER           who approved the rollback, recorded as --user (run)
#   FLEET_ROLLBACK_ALLOW_PARTIAL, FLEET_ROLLBACK_ALLOW_FORWARD   `true` to pass the flag (run)
#   Secrets, read by fleet-rollback itself and never echoed here: REGISTRY_USERNAME,
#   REGISTRY_PASSWORD, MARATHON_TOKEN, MARATHON_USERNAME, MARATHON_PASSWORD, DCOS_PASSWORD,
#   DCOS_PRIVATE_KEY_FILE, SLACK_WEBHOOK_URL.
#   notify-failure also reads JOB_NAME, BUILD_NUMBER, BUILD_URL (set by Jenkins).
#
# Exit codes: those of fleet-rollback (0 ok, 1 failed, 2 bad input); 2 for a bad call of this script.
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

# The config file: FLEET_ROLLBACK_CONFIG, else fleet-rollback.yaml in the workspace when there is one.
if [ -z "${FLEET_ROLLBACK_CONFIG:-}" ] && [ -f fleet-rollback.yaml ]; then
  FLEET_ROLLBACK_CONFIG=fleet-rollback.yaml
fi

rollback_file="${ROLLBACK_FILE:-rollback.json}"
rollback_report="${ROLLBACK_REPORT:-rollback-report.json}"

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
    require_point
    use_fleet_rollback
    set -- plan --file "$rollback_file" --point "$ROLLBACK_POINT"
    [ -z "${FLEET_ROLLBACK_CONFIG:-}" ] || set -- "$@" --config "$FLEET_ROLLBACK_CONFIG"
    [ -z "${FLEET_ROLLBACK_MARATHON:-}" ] || set -- "$@" --marathon "$FLEET_ROLLBACK_MARATHON"
    fleet_rollback "$@"
    ;;
  run)
    require_point
    use_fleet_rollback
    set -- run --file "$rollback_file" --point "$ROLLBACK_POINT" --yes --report "$rollback_report"
    [ -z "${ROLLBACK_APPROVER:-}" ] || set -- "$@" --user "$ROLLBACK_APPROVER"
    [ "${FLEET_ROLLBACK_ALLOW_PARTIAL:-false}" != "true" ] || set -- "$@" --allow-partial
    [ "${FLEET_ROLLBACK_ALLOW_FORWARD:-false}" != "true" ] || set -- "$@" --allow-forward
    [ -z "${FLEET_ROLLBACK_CONFIG:-}" ] || set -- "$@" --config "$FLEET_ROLLBACK_CONFIG"
    [ -z "${FLEET_ROLLBACK_MARATHON:-}" ] || set -- "$@" --marathon "$FLEET_ROLLBACK_MARATHON"
    fleet_rollback "$@"
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
    fail "unknown stage '${stage}': use get, choices, plan, run or notify-failure"
    ;;
esac
