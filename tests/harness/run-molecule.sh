#!/usr/bin/env bash
# Run molecule scenarios in parallel (each has its own containers, addresses and apt
# cache, so they do not share state) and report each one's result. Logs: build/logs/.
#   tests/harness/run-molecule.sh [scenario ...]     (default: all)
#   TM_JOBS=n    scenarios at once (default 3)
set -uo pipefail
cd "$(dirname "$0")/../.."
mkdir -p build/logs
rm -f build/logs/molecule-*.log
jobs=${TM_JOBS:-3}
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || mapfile -t scenarios < <(ls molecule/*/molecule.yml | cut -d/ -f2)

run() {
  local s=$1 start=$SECONDS
  if molecule test -s "$s" >"build/logs/molecule-$s.log" 2>&1; then
    echo "PASS $s ($((SECONDS - start)) s)"
  else
    echo "FAIL $s ($((SECONDS - start)) s): build/logs/molecule-$s.log"
    return 1
  fi
}

export -f run
failed=0
printf '%s\n' "${scenarios[@]}" | xargs -P "$jobs" -I{} bash -c 'run "$1"' _ {} || failed=1
if [ "$failed" -ne 0 ]; then
  for log in build/logs/molecule-*.log; do
    if grep -q "FAILED\|fatal:\|ERROR" "$log"; then echo "=== tail of $log"; tail -60 "$log"; fi
  done
fi
# The checks' own summary lines, for CI's record.
grep -h -E '^=+ .*(passed|failed).* in ' build/logs/molecule-*.log || true
exit $failed
