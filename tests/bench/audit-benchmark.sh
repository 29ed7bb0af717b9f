#!/usr/bin/env bash
# Audit speed benchmark (issue 8, "Speed"), see docs/benchmarks.md "Converge and audit speed".
# playbooks/audit.yml (passive audit) of ONE converged host and of TEN converged hosts.
# Ten hosts cheaply: one container converged with site.yml (as converge-benchmark.sh does),
# `podman commit`ted to localhost/trusted-mail-bench-converged, ten containers started from it
# (tm-cbench-a01..a10, 172.24.77.125-.134, mail01..mail10.tm-test.stanford.edu), and the
# compliance role converged again on them (not timed) so each one's compliance record names
# its own FQDN and address: ten distinct hosts, each of which can pass.
# Goals: one host <= 30 s; ten hosts <= 2x one host. JSON lines: docs/bench/audit-<date>.jsonl.
#
#   tests/bench/audit-benchmark.sh            set up and converge tm-cbench-mail first (not timed)
#   tests/bench/audit-benchmark.sh --reuse    use tm-cbench-mail/-campus kept by
#                                             `converge-benchmark.sh --keep` (same CBENCH_OUT)
# Settings (environment): CBENCH_OUT (work directory), CBENCH_RESULTS (docs/bench), CBENCH_DATE,
#   CBENCH_HOSTS (10), CBENCH_DIRECT (1: also time scripts/tm-audit -j HOSTS directly),
#   CBENCH_TEN_FORKS ("5 10": the forks values the N-host audit is timed with),
#   CBENCH_SETTLE (60: seconds to wait after the ten hosts booted, before the first audit).
# Everything started here, and the image, is removed at the end (tm-cbench-mail/-campus too).
set -euo pipefail
REUSE=0
case "${1:-}" in --reuse) REUSE=1 ;; "") ;; *) echo "usage: $0 [--reuse]" >&2; exit 2 ;; esac
if [ "$REUSE" = 1 ] && [ -z "${CBENCH_OUT:-}" ]; then
  echo "--reuse needs CBENCH_OUT, the work directory of the converge-benchmark.sh --keep run" >&2; exit 2
fi
CB_OUT=${CBENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/tm-cbench.XXXXXX")}
mkdir -p "$CB_OUT"
CB_OUT=$(cd "$CB_OUT" && pwd)
# shellcheck source=tests/bench/converge-lib.sh
. "$(dirname "$0")/converge-lib.sh"
RESULTS=${CBENCH_RESULTS:-$PWD/docs/bench}
DATE=${CBENCH_DATE:-$(date -u +%F)}
JSONL=$RESULTS/audit-$DATE.jsonl
N=${CBENCH_HOSTS:-10}
DIRECT=${CBENCH_DIRECT:-1}
TEN_FORKS=${CBENCH_TEN_FORKS:-5 10}
IMAGE=localhost/trusted-mail-bench-converged:latest
RUN_ID=$(date -u +%FT%TZ)
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ "$N" -lt 1 ] || [ "$N" -gt 14 ]; then echo "CBENCH_HOSTS must be 1..14 (addresses .125-.138)" >&2; exit 2; fi
mkdir -p "$RESULTS"
CB_CREATED+=("$CB_MAIL" "$CB_CAMPUS")
finish() {
  cb_cleanup
  podman rmi -f "$IMAGE" >/dev/null 2>&1 || true
}
trap finish EXIT

# ---------------------------------------------------------------- one converged host (not timed)
if [ "$REUSE" = 1 ]; then
  if ! podman container exists "$CB_MAIL" || ! podman container exists "$CB_CAMPUS"; then
    echo "$CB_MAIL / $CB_CAMPUS are not there: run converge-benchmark.sh --keep first" >&2; exit 1
  fi
  cb_log "reusing the converged $CB_MAIL (work directory $CB_OUT)"
else
  cb_setup
  cb_log "converging $CB_MAIL with site.yml (not timed; log $CB_OUT/converge-audit.log)"
  read -r s rc < <(cb_playbook "$CB_OUT/converge-audit.log" -i "$CB_INV/hosts.yml" stanford.trusted_mail.site)
  [ "$rc" = 0 ] || { tail -n 40 "$CB_OUT/converge-audit.log" >&2; exit 1; }
  cb_log "   converged in $s s"
fi

# ---------------------------------------------------------------- N hosts from it (not timed)
cb_log "podman commit $CB_MAIL -> $IMAGE"
podman commit -q "$CB_MAIL" "$IMAGE" >/dev/null 2>>"$CB_OUT/commit.log"  # it warns about every socket
podman rm -f -t 0 "$CB_MAIL" >/dev/null  # its address and name are not reused; frees its memory
HOSTS=()
for i in $(seq 1 "$N"); do
  name=$(printf 'tm-cbench-a%02d' "$i")
  HOSTS+=("$name")
  CB_CREATED+=("$name")
  cb_mail_container "$name" "172.24.77.$((124 + i))" "$(printf 'mail%02d.tm-test.stanford.edu' "$i")" "$IMAGE" &
done
wait
cb_log "started ${HOSTS[*]}"
CB_INV=$CB_OUT/audit-inventory
cb_inventory "${HOSTS[@]}"
cb_log "compliance role again on the $N hosts, so each record names its own host (not timed; log $CB_OUT/compliance.log)"
read -r s rc < <(ANSIBLE_FORKS=$N cb_playbook "$CB_OUT/compliance.log" -i "$CB_INV/hosts.yml" \
  --tags compliance stanford.trusted_mail.site)
[ "$rc" = 0 ] || { tail -n 40 "$CB_OUT/compliance.log" >&2; exit 1; }
cb_log "   $s s"

# Let the ten boots settle (clamd loading its database, Postfix, rsyslog starting) before
# any clock starts: the first run (2026-11-28) measured the one-host audit during them.
SETTLE=${CBENCH_SETTLE:-60}
cb_log "settling $SETTLE s (load $(cb_load))"
sleep "$SETTLE"

# ---------------------------------------------------------------- timed audits
# audit OUTNAME FORKS PATTERN: playbooks/audit.yml, passive; prints the JSON line's fields.
audit() {
  local out=$CB_OUT/$1 forks=$2 pattern=$3 load s rc summary
  load=$(cb_load)
  read -r s rc < <(ANSIBLE_FORKS=$forks cb_playbook "$CB_OUT/$1.log" -i "$CB_INV/hosts.yml" stanford.trusted_mail.audit \
    -e "audit_hosts=$pattern" -e "audit_output_dir=$out" -e audit_fail=false)
  summary=$(python3 - "$out/report.json" <<'PY'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except OSError as exc:
    print(json.dumps({"report": "missing: %s" % exc}))
    sys.exit()
hosts = r["hosts"]
print(json.dumps({"hosts": len(hosts), "hosts_pass": sum(h["status"] == "pass" for h in hosts),
                  "not_met": sorted({f"{h['host']}:{q['id']}" for h in hosts for q in h["requirements"]
                                     if q.get("status") not in ("pass", "waived")})[:20]}))
PY
)
  echo "$s $rc $load|$summary"
}
emit() {  # measure wall rc load summary-json [extra json fields]
  python3 - "$JSONL" "$@" "$RUN_ID" "$COMMIT" <<'PY'
import json, sys
path, measure, wall, rc, load, summary, extra, run, commit = sys.argv[1:]
rec = {"run": run, "commit": commit, "measure": measure, "wall_s": float(wall), "rc": int(rc), "load": load}
rec.update(json.loads(summary))
rec.update(json.loads(extra))
with open(path, "a") as f:
    f.write(json.dumps(rec) + "\n")
PY
}
measure() {  # measure-name outname forks pattern extra-json
  local line s rc load summary
  cb_log "audit: $1 (forks $3, load $(cb_load))"
  line=$(audit "$2" "$3" "$4")
  read -r s rc load <<<"${line%%|*}"
  summary=${line#*|}
  emit "$1" "$s" "$rc" "$load" "$summary" "$5"
  cb_log "   $s s, rc $rc, $summary"
  echo "$s"
}

ONE=$(measure one_host audit-1 5 "${HOSTS[0]}" '{"forks": 5}')
TIMES=()
for forks in $TEN_FORKS; do
  TIMES+=("$forks=$(measure "${N}_hosts_forks_$forks" "audit-$N-forks-$forks" "$forks" trusted_mail "{\"forks\": $forks}")")
done
if [ "$DIRECT" = 1 ]; then
  cb_log "scripts/tm-audit -j $N directly (no playbook around it)"
  load=$(cb_load)
  t0=$(cb_now); rc=0
  scripts/tm-audit -q -i "$CB_INV/hosts.yml" -l trusted_mail -j "$N" -o "$CB_OUT/audit-direct" >"$CB_OUT/audit-direct.log" 2>&1 || rc=$?
  t1=$(cb_now)
  DIR_S=$(cb_secs "$t0" "$t1")
  emit "${N}_hosts_tm_audit_j$N" "$DIR_S" "$rc" "$load" '{}' "{\"jobs\": $N}"
  cb_log "   $DIR_S s, rc $rc"
fi
python3 - "$JSONL" "$ONE" "$N" "$RUN_ID" "$COMMIT" "${TIMES[@]}" <<'PY'
import json, sys
path, one, n, run, commit = sys.argv[1:6]
one = float(one)
many = {int(k): float(v) for k, v in (a.split("=") for a in sys.argv[6:])}
rec = {"run": run, "commit": commit, "measure": "goals", "one_host_s": one, "one_host_goal_s": 30,
       "one_host_met": one <= 30, "ratio_goal": 2}
for forks, secs in many.items():
    rec[f"{n}_hosts_forks_{forks}_s"] = secs
    rec[f"ratio_forks_{forks}"] = round(secs / one, 2)
    rec[f"ratio_met_forks_{forks}"] = secs <= 2 * one
with open(path, "a") as f:
    f.write(json.dumps(rec) + "\n")
print()
print("| audit (playbooks/audit.yml, passive) | wall s | goal | met |")
print("|---|---|---|---|")
print(f"| one host | {one} | <= 30 s | {one <= 30} |")
for forks, secs in many.items():
    print(f"| {n} hosts, forks {forks} | {secs} | <= {2 * one:.1f} s (2x one) | {secs <= 2 * one} |")
PY
echo "results: $JSONL, logs and reports: $CB_OUT"
