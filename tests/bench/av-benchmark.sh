#!/usr/bin/env bash
# Anti-virus path benchmark (TM-04), see docs/benchmarks.md.
# In one run on this host: messages/second through
#   1. Postfix alone (converged with tests/bench/mail-path.yml, milters removed for the run) -> smtp-sink
#   2. Postfix with the anti-virus path (clamav-milter + clamd) -> smtp-sink
#   3. clamd by itself (INSTREAM on its local socket), same messages, same concurrency
# for ~10 KB and ~100 KB messages whose content differs in every message (clamd's verdict
# cache never hits; DisableCache is NOT set). Then, unless BENCH_SYNTH=0, again with a
# synthetic signature set that gives clamd a production-like memory footprint.
# Nothing may be lost: accepted messages = messages at the sink, queue empty at the end.
#
#   tests/bench/av-benchmark.sh          create tm-bench-* containers, converge, measure, remove
#   tests/bench/av-benchmark.sh --keep   leave the containers running afterwards
#   tests/bench/av-benchmark.sh --reuse  use the kept containers (converge again, measure; implies --keep)
# Settings (environment): BENCH_CONC (8), BENCH_COUNT_10K (1000), BENCH_COUNT_100K (400),
#   BENCH_SYNTH (1), BENCH_SYNTH_HDB (4000000), BENCH_SYNTH_HSB (1000000), BENCH_SYNTH_NDB (200000),
#   BENCH_SYNTH_LDB (20000), BENCH_EXTRA_VARS (extra -e for site.yml, e.g. tuning),
#   BENCH_TESTSIG (1; 0 skips the test-signature runs), BENCH_OUT (results dir),
#   BENCH_PIN (0; 1 pins clamd to CPU 1 and everything else, Postfix, the milter, the load
#   client and the sink, to CPU 0: the cores are then not shared, as on a server where
#   scanning has cores of its own; results are labelled "<sigs>/pinned")
set -euo pipefail
cd "$(dirname "$0")/../.."
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/tests/harness/containers.conf}
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$PWD/build/collections}
[ -d .venv/bin ] && export PATH=$PWD/.venv/bin:$PATH

CONC=${BENCH_CONC:-8}
COUNT_10K=${BENCH_COUNT_10K:-1000}
COUNT_100K=${BENCH_COUNT_100K:-400}
SYNTH=${BENCH_SYNTH:-1}
SYNTH_HDB=${BENCH_SYNTH_HDB:-4000000}
SYNTH_HSB=${BENCH_SYNTH_HSB:-1000000}
SYNTH_NDB=${BENCH_SYNTH_NDB:-200000}
SYNTH_LDB=${BENCH_SYNTH_LDB:-20000}
EXTRA_VARS=${BENCH_EXTRA_VARS:-}
PIN=${BENCH_PIN:-0}
KEEP=0 REUSE=0
case "${1:-}" in --keep) KEEP=1 ;; --reuse) KEEP=1 REUSE=1 ;; "") ;; *) echo "usage: $0 [--keep|--reuse]" >&2; exit 2 ;; esac
TESTSIG=${BENCH_TESTSIG:-1}
release=${TM_RELEASE:-bookworm}
MAIL=tm-bench-mail SINK=tm-bench-sink CLIENT=tm-bench-client
MAIL_IP=172.24.77.60 SINK_IP=172.24.77.61 CLIENT_IP=172.24.77.62
OUT=${BENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/tm-av-bench.XXXXXX")}
mkdir -p "$OUT"
RES=$OUT/results.jsonl; : >"$RES"
T_START=$(date +%s)

cleanup() {
  if [ "$KEEP" = 0 ]; then
    podman rm -f -t 0 --ignore $MAIL $SINK $CLIENT >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

mx() { podman exec $MAIL "$@"; }
sk() { podman exec $SINK sh -c "$1"; }
log() { echo "== [$(( $(date +%s) - T_START ))s] $*"; }

# ---------------------------------------------------------------- containers, converge
if [ "$REUSE" = 0 ]; then
log "containers (results in $OUT)"
podman rm -f -t 0 --ignore $MAIL $SINK $CLIENT >/dev/null
mkdir -p "/var/cache/trusted-mail/apt/$release-bench"
podman run -d --name $MAIL --hostname mail.bench.stanford.edu --systemd=always \
  --network tm-campus:ip=$MAIL_IP \
  --volume "/var/cache/trusted-mail/apt/$release-bench:/var/cache/apt/archives:z" \
  "localhost/trusted-mail-base:$release" /sbin/init >/dev/null
# Next hop: smtp-sink keeps every message as one file in /sink (counted, then deleted per run).
podman run -d --name $SINK --network tm-campus:ip=$SINK_IP "localhost/trusted-mail-tools:$release" \
  sh -c 'mkdir -p /sink && chmod 1777 /sink && exec smtp-sink -u nobody -d /sink/%H%M%S. 0.0.0.0:25 1024' >/dev/null
podman run -d --name $CLIENT --network tm-campus:ip=$CLIENT_IP \
  --volume "$PWD/tests/bench:/bench:ro,z" "localhost/trusted-mail-tools:$release" sleep infinity >/dev/null
mx systemctl is-system-running --wait >/dev/null 2>&1 || true
else
  log "reusing $MAIL, $SINK, $CLIENT (results in $OUT)"
  mx sh -c 'rm -f /var/lib/clamav/tm-bench-synth*'
fi

cp -r inventories/example/group_vars "$OUT/group_vars"
cat >"$OUT/hosts.yml" <<INVENTORY
---
trusted_mail:
  hosts:
    $MAIL:
      ansible_connection: containers.podman.podman
      ansible_become: false
      ansible_python_interpreter: /usr/bin/python3
      mta_myhostname: mail.bench.stanford.edu
      mta_tls_cert_source: selfsigned
      mta_root_alias: ""
      mta_relayhost: "[$SINK_IP]:25"
      mta_relayhost_tls_level: may
INVENTORY
log "test-only ClamAV signature (EICAR) and drop-in"
ansible-playbook -i "$OUT/hosts.yml" molecule/shared/clamav_test_db.yml >"$OUT/converge.log" 2>&1
log "converging $MAIL with the mail path of site.yml: mta, antivirus (log: $OUT/converge.log)"
ANSIBLE_PIPELINING=true ansible-playbook -i "$OUT/hosts.yml" ${EXTRA_VARS:+-e "$EXTRA_VARS"} tests/bench/mail-path.yml >>"$OUT/converge.log" 2>&1 \
  || { tail -n 30 "$OUT/converge.log"; exit 1; }
podman cp tests/bench/. $MAIL:/root/bench >/dev/null

MILTERS=$(mx postconf -h smtpd_milters) NS_MILTERS=$(mx postconf -h non_smtpd_milters)
[ -n "$MILTERS" ] || { echo "converged server has no smtpd_milters: not the AV path" >&2; exit 1; }
# The run restores the milters however it ends (when the containers are kept).
restore_milters() { mx postconf -e "smtpd_milters=$MILTERS" "non_smtpd_milters=$NS_MILTERS" >/dev/null 2>&1 && mx postfix reload >/dev/null 2>&1 || true; }
trap 'restore_milters; cleanup' EXIT

# ---------------------------------------------------------------- helpers
ON0=()                    # prefix for the load clients: CPU 0 when pinned
[ "$PIN" = 1 ] && ON0=(taskset -c 0)
pin() {                   # BENCH_PIN=1: clamd alone on CPU 1, every other process on CPU 0
  # From the host (root there may set any process's affinity; in the containers, without
  # CAP_SYS_NICE, root may not touch clamd's or Postfix's). Children inherit the mask.
  [ "$PIN" = 1 ] || return 0
  local c hpid comm
  for c in $MAIL $SINK $CLIENT; do
    podman top "$c" hpid comm | tail -n +2 | while read -r hpid comm; do
      if [ "$comm" = clamd ]; then taskset -a -p -c 1 "$hpid" >/dev/null; else taskset -a -p -c 0 "$hpid" >/dev/null 2>&1 || true; fi
    done
  done
  echo "   pinned: clamd affinity mask $(taskset -p "$(podman top $MAIL hpid comm | awk '$2 == "clamd" {print $1}')" | awk '{print $NF}') (2 = CPU 1), every other process CPU 0"
}
clamd_pid() { mx sh -c 'cat /run/clamav/clamd.pid 2>/dev/null || pidof clamd'; }
clamd_mem() { mx sh -c "grep -E '^(VmRSS|VmHWM)' /proc/$(clamd_pid)/status" | awk '{printf "%s %.0f MiB  ", $1, $2/1024}'; }
clamd_restart_timed() {   # seconds from `systemctl restart` until clamd answers PING
  local t0 t1
  t0=$(date +%s.%N)
  mx systemctl restart clamav-daemon
  for _ in $(seq 1 300); do   # gives up after roughly 2-3 minutes
    mx python3 /root/bench/clamd_instream.py --ping && break
    sleep 0.2
  done
  mx python3 /root/bench/clamd_instream.py --ping || { echo "clamd does not answer PING (see journalctl -u clamav-daemon; 6M hashes in one .hdb failed: mpool_malloc)" >&2; exit 1; }
  t1=$(date +%s.%N)
  pin >&2
  python3 -c "print(round($t1 - $t0, 1))"
}
wait_drained() {          # until the sink holds $1 messages and the queue is empty
  local n q
  for _ in $(seq 1 600); do
    n=$(sk 'ls /sink | wc -l'); q=$(mx sh -c 'postqueue -j | wc -l')
    [ "$n" -ge "$1" ] && [ "$q" = 0 ] && return 0
    sleep 0.5
  done
  return 1
}
milters() {               # on|off
  if [ "$1" = off ]; then mx postconf -e smtpd_milters= non_smtpd_milters=
  else mx postconf -e "smtpd_milters=$MILTERS" "non_smtpd_milters=$NS_MILTERS"; fi
  mx postfix reload >/dev/null 2>&1; sleep 2
}
smtp_run() {              # sigset path size count
  local sigs=$1 path=$2 size=$3 count=$4 id json n q scanned last
  id="$sigs-$path-$size-$(date +%s)"
  # warm-up (not counted): start Postfix's processes and milter/clamd connections
  podman exec $CLIENT "${ON0[@]}" python3 /bench/smtp_load.py --host $MAIL_IP --conc "$CONC" --count $((2 * CONC)) \
    --size "$size" --run-id "warm-$id" >/dev/null
  wait_drained $((2 * CONC)) || true
  sk 'find /sink -type f -delete'
  json=$(podman exec $CLIENT "${ON0[@]}" python3 /bench/smtp_load.py --host $MAIL_IP --conc "$CONC" --count "$count" \
    --size "$size" --run-id "$id")
  wait_drained "$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['accepted'])" "$json")" \
    || echo "   WARNING: sink/queue did not drain within 300 s" >&2
  n=$(sk 'ls /sink | wc -l'); q=$(mx sh -c 'postqueue -j | wc -l')
  scanned=$(sk 'grep -l "^X-Virus-Scanned:" /sink/* 2>/dev/null | wc -l')
  last=$(sk "find /sink -type f -printf '%T@\n' | sort -n | tail -n 1")
  python3 - "$json" "$sigs" "$path" "$size" "$n" "$q" "$scanned" "${last:-0}" >>"$RES" <<'PY'
import json, sys
r = json.loads(sys.argv[1]); sigs, path, size, n, q, scanned, last = sys.argv[2:]
e2e = float(last) - r["start_epoch"]
r.update(sigs=sigs, path=path, size=int(size), at_sink=int(n), queue_left=int(q),
         scanned_hdr=int(scanned), e2e_rate=round(r["accepted"] / e2e, 2) if e2e > 0 else None)
print(json.dumps(r))
PY
  tail -n 1 "$RES" | python3 -c "import json,sys; r=json.load(sys.stdin); print(f\"   {r['path']:<11} {r['size']:>6} B: accepted {r['accepted']}/{r['sent']} at {r['rate']} msg/s, sink {r['at_sink']}, queue {r['queue_left']}, X-Virus-Scanned {r['scanned_hdr']}\")"
}
clamd_run() {             # sigset size count
  local json
  mx "${ON0[@]}" python3 /root/bench/clamd_instream.py --conc "$CONC" --count $((2 * CONC)) --size "$2" --run-id "warm" >/dev/null
  json=$(mx "${ON0[@]}" python3 /root/bench/clamd_instream.py --conc "$CONC" --count "$3" --size "$2" --run-id "$1-clamd-$2")
  python3 -c "import json,sys; r=json.loads(sys.argv[1]); r.update(sigs=sys.argv[2], path='clamd', size=int(sys.argv[3])); print(json.dumps(r))" \
    "$json" "$1" "$2" >>"$RES"
  echo "   clamd        $2 B: $json"
}
measure_set() {           # sigset
  local size count label=$1
  [ "$PIN" = 1 ] && label="$1/pinned"
  set -- "$label"
  for size in 10240 102400; do
    count=$COUNT_10K; [ "$size" = 102400 ] && count=$COUNT_100K
    milters off; smtp_run "$1" postfix-only "$size" "$count"
    milters on;  smtp_run "$1" av-path "$size" "$count"
    clamd_run "$1" "$size" "$count"
  done
}
echo_mem() { # sigset load_s
  local mem; mem=$(clamd_mem)
  echo "   clamd: database load $2 s, $mem"
  python3 -c "import json,sys; print(json.dumps({'path':'clamd-db','sigs':sys.argv[1],'load_s':float(sys.argv[2]),'mem':sys.argv[3]}))" \
    "$1" "$2" "$mem" >>"$RES"
}

# ---------------------------------------------------------------- measurements
if [ "$TESTSIG" = 1 ]; then
  log "clamd with the test signature only"
  echo_mem test-sig "$(clamd_restart_timed)"
  log "measuring (concurrency $CONC, ${COUNT_10K} x 10 KB, ${COUNT_100K} x 100 KB, unique content)"
  measure_set test-sig
  mx sh -c "grep -E '^(VmRSS|VmHWM)' /proc/$(clamd_pid)/status" | tr '\n' ' '; echo
fi

if [ "$SYNTH" = 1 ]; then
  log "synthetic signatures: $SYNTH_HDB MD5 (.hdb) + $SYNTH_HSB SHA-256 (.hsb) + $SYNTH_NDB body (.ndb) + $SYNTH_LDB logical (.ldb), all random"
  mx python3 /root/bench/gen_synthetic_sigs.py --hdb "$SYNTH_HDB" --hsb "$SYNTH_HSB" --ndb "$SYNTH_NDB" --ldb "$SYNTH_LDB"
  mx sh -c 'chown clamav:clamav /var/lib/clamav/tm-bench-synth*; du -ch /var/lib/clamav/tm-bench-synth* | tail -n 1'
  echo_mem "synthetic" "$(clamd_restart_timed)"
  measure_set synthetic
  if [ "$KEEP" = 1 ]; then
    mx sh -c 'rm -f /var/lib/clamav/tm-bench-synth*'
    clamd_restart_timed >/dev/null
  fi
fi

# ---------------------------------------------------------------- table
log "results: $(date -u +%FT%TZ), $(nproc) cores$([ "$PIN" = 1 ] && echo ', pinned: clamd on CPU 1, the rest on CPU 0'), commit $(git rev-parse --short HEAD 2>/dev/null), concurrency $CONC, raw: $RES"
python3 tests/bench/report.py "$RES" | tee "$OUT/table.md"
