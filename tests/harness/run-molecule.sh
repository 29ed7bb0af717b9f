#!/usr/bin/env bash
# Run molecule scenarios in parallel (each has its own containers, addresses and apt
# cache, so they do not share state) and report each one's result. Logs: build/logs/.
#   tests/harness/run-molecule.sh [scenario ...]     (default: all)
#   TM_JOBS=n    scenarios at once (default 3)
#   TM_RELEASE   Debian release of the images (default bookworm); logs are per release
set -uo pipefail
cd "$(dirname "$0")/../.."
mkdir -p build/logs
release=${TM_RELEASE:-bookworm}
export release
rm -f build/logs/molecule-*-"$release".log "build/logs/failed-$release"
jobs=${TM_JOBS:-3}
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || mapfile -t scenarios < <(ls molecule/*/molecule.yml | cut -d/ -f2)

run() {
  local s=$1 start=$SECONDS
  local log="build/logs/molecule-$s-$release.log"
  if molecule test -s "$s" >"$log" 2>&1; then
    echo "PASS $s on $release ($((SECONDS - start)) s)"
  else
    echo "FAIL $s on $release ($((SECONDS - start)) s): $log"
    echo "$log" >>"build/logs/failed-$release"
    return 1
  fi
}

export -f run
failed=0
printf '%s\n' "${scenarios[@]}" | xargs -P "$jobs" -I{} bash -c 'run "$1"' _ {} || failed=1
if [ -f "build/logs/failed-$release" ]; then
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
  done <"build/logs/failed-$release"
fi
# The checks' own summary lines, for CI's record.
grep -h -E '^=+ .*(passed|failed).* in ' build/logs/molecule-*-"$release".log || true
exit $failed
