#!/usr/bin/env bash
# Run molecule scenarios in parallel (each has its own containers, addresses and apt
# cache, so they do not share state) and report each one's result. Logs: build/logs/.
#   tests/harness/run-molecule.sh [job ...]     (default: every scenario on bookworm)
# A job is a scenario, optionally @release (default bookworm), or a comma-separated chain
# of them run one after the other in the same slot: the same scenario on two releases
# shares container names and addresses, so `default,default@trixie` runs them in turn
# while the other slots go on with the rest.
#   TM_JOBS=n    jobs at once (default 3)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
export ANSIBLE_CONNECTION_PLUGINS=${ANSIBLE_CONNECTION_PLUGINS:-$PWD/tests/harness/connection_plugins}
mkdir -p build/logs
rm -f build/logs/molecule-*.log build/logs/failed
jobs=${TM_JOBS:-3}
chains=("$@")
[ ${#chains[@]} -gt 0 ] || mapfile -t chains < <(ls molecule/*/molecule.yml | cut -d/ -f2)

run() {
  local chain=$1 item s release start log status=0
  for item in ${chain//,/ }; do
    s=${item%@*}
    release=bookworm
    [ "$item" = "$s" ] || release=${item#*@}
    start=$SECONDS
    log="build/logs/molecule-$s-$release.log"
    if TM_RELEASE=$release molecule test -s "$s" >"$log" 2>&1; then
      echo "PASS $s on $release ($((SECONDS - start)) s)"
    else
      echo "FAIL $s on $release ($((SECONDS - start)) s): $log"
      echo "$log" >>build/logs/failed
      status=1
    fi
  done
  return "$status"
}

export -f run
failed=0
printf '%s\n' "${chains[@]}" | xargs -P "$jobs" -I{} bash -c 'run "$1"' _ {} || failed=1
if [ -f build/logs/failed ]; then
  # CI keeps only the end of the output: the reasons first, then each failed log's tail.
  while read -r log; do
    echo "=== why $log failed"
    # First the decisive lines: a check that passed on a bad host, or errored, or failed.
    sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E 'cannot detect|(^|[ "])(ERROR|FAILED) [a-z]' |
      grep -v 'FAILED - RETRYING' | head -20
    echo "--- details"
    sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E 'AssertionError|Error:|FAILED |fatal:|failed:|"msg":|SEEN|UNEXPECTED|cannot detect' |
      grep -v 'FAILED - RETRYING' | head -60
    echo "=== tail of $log"
    tail -30 "$log"
  done <build/logs/failed
fi
# The checks' own summary lines, for CI's record.
grep -h -E '^=+ .*(passed|failed).* in ' build/logs/molecule-*.log || true
exit $failed
