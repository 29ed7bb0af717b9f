# shellcheck shell=bash
# Shared by tests/bench/converge-benchmark.sh and tests/bench/audit-benchmark.sh (sourced, not run).
# Builds the same complete server molecule/default converges: the example inventory's
# group_vars plus molecule/default/host_vars (names, next hop, test certificates), with a
# campus container (smarthost, RELP collector, secure relay) and the mail host's
# site-provided files, all set up before any clock starts.
#   tm-cbench-campus  172.24.77.121  relay.tm-test.stanford.edu (trusted-mail-tools image)
#   tm-cbench-mail    172.24.77.120  mail.tm-test.stanford.edu  (trusted-mail-base image)
# Callers set CB_OUT (work directory) before sourcing; CB_CREATED lists what to remove.

cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/tests/harness/containers.conf}
# CBENCH_CONNECTION: tm_podman (podman exec with pipelining, the default) or
# containers.podman.podman (several podman calls per module)
export ANSIBLE_CONNECTION_PLUGINS=$PWD/tests/harness/connection_plugins
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$PWD/build/collections}
[ -d .venv/bin ] && export PATH=$PWD/.venv/bin:$PATH
# pki.yml, smarthost.yml, collector.yml and the host_vars read their credentials from here.
export MOLECULE_EPHEMERAL_DIRECTORY=$CB_OUT/eph
# The Ansible settings of every timed run (molecule/default's, plus the profile).
export ANSIBLE_PIPELINING=true ANSIBLE_INTERPRETER_PYTHON=/usr/bin/python3 ANSIBLE_FORCE_COLOR=0 \
  ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks PROFILE_TASKS_TASK_OUTPUT_LIMIT=25 \
  PROFILE_TASKS_SORT_ORDER=descending ANSIBLE_HOST_KEY_CHECKING=false ANSIBLE_RETRY_FILES_ENABLED=false

CB_RELEASE=${TM_RELEASE:-bookworm}
CB_BASE=localhost/trusted-mail-base:$CB_RELEASE
CB_TOOLS=localhost/trusted-mail-tools:$CB_RELEASE
CB_MAIL=tm-cbench-mail CB_MAIL_IP=172.24.77.120
CB_CAMPUS=tm-cbench-campus CB_CAMPUS_IP=172.24.77.121
CB_INV=${CB_INV:-$CB_OUT/inventory}
CB_CACHE_ROOT=/var/cache/trusted-mail/apt
CB_CREATED=()      # containers this run started (removed by cb_cleanup)
CB_T0=$(date +%s)

cb_log() { echo "== [$(( $(date +%s) - CB_T0 ))s] $*" >&2; }
cb_now() { date +%s.%N; }
cb_secs() { python3 -c "import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 1))" "$1" "$2"; }
cb_load() { cut -d' ' -f1-3 /proc/loadavg; }

cb_cleanup() {
  local c
  for c in "${CB_CREATED[@]}"; do podman rm -f -t 0 --ignore "$c" >/dev/null 2>&1 || true; done
}

# cb_run NAME IP HOSTNAME IMAGE CACHE_DIR [extra podman args...]: a systemd container, booted.
cb_run() {
  local name=$1 ip=$2 fqdn=$3 image=$4 cache=$5 state
  shift 5
  podman rm -f -t 0 --ignore "$name" >/dev/null
  mkdir -p "$cache"
  CB_CREATED+=("$name")
  podman run -d --name "$name" --hostname "$fqdn" --systemd=always --cap-add AUDIT_WRITE \
    --network "tm-campus:ip=$ip" --volume "$cache:/var/cache/apt/archives:z" "$@" "$image" /sbin/init >/dev/null
  for _ in $(seq 1 60); do
    state=$(podman exec "$name" systemctl is-system-running 2>/dev/null || true)
    case "$state" in running|degraded) return 0 ;; esac
    sleep 1
  done
  echo "$name: systemd did not boot ($state)" >&2
  return 1
}

# cb_mail_container NAME IP FQDN IMAGE: a mail host as molecule/default creates it.
cb_mail_container() {
  cb_run "$1" "$2" "$3" "$4" "$CB_CACHE_ROOT/$CB_RELEASE-cbench" \
    --cap-add NET_ADMIN --cap-add SYS_PTRACE --add-host "relay.tm-test.stanford.edu:$CB_CAMPUS_IP"
}

# cb_host_vars NAME: the mail host's variables, molecule/default's with this bench's addresses.
cb_host_vars() {
  mkdir -p "$CB_INV/host_vars"
  sed -e "s#172\.24\.77\.21/32#$CB_CAMPUS_IP/32#" molecule/default/host_vars/tm-default-mail.yml \
    >"$CB_INV/host_vars/$1.yml"
}

# cb_inventory MAILHOST...: trusted_mail = the given hosts, campus = the campus container.
cb_inventory() {
  local h
  mkdir -p "$CB_INV/group_vars"
  cp inventories/example/group_vars/trusted_mail.yml "$CB_INV/group_vars/trusted_mail.yml"
  {
    echo "---"
    echo "all:"
    echo "  vars:"
    echo "    ansible_connection: ${CBENCH_CONNECTION:-tm_podman}"
    echo "    ansible_python_interpreter: /usr/bin/python3"
    echo "  children:"
    echo "    trusted_mail:"
    echo "      hosts:"
    for h in "$@"; do echo "        $h: {}"; done
    echo "    campus:"
    echo "      hosts:"
    echo "        $CB_CAMPUS: {}"
  } >"$CB_INV/hosts.yml"
  for h in "$@"; do cb_host_vars "$h"; done
}

# cb_setup: campus container and a fresh mail container, everything site-provided in place
# (test PKI, the administrator's key and TOTP secret, test CA and client certificate on the
# mail host, the EICAR-only ClamAV database, smarthost and collector on campus). Not timed.
cb_setup() {
  mkdir -p "$MOLECULE_EPHEMERAL_DIRECTORY"
  cb_log "containers: $CB_CAMPUS ($CB_CAMPUS_IP), $CB_MAIL ($CB_MAIL_IP, fresh $CB_BASE)"
  cb_run "$CB_CAMPUS" "$CB_CAMPUS_IP" relay.tm-test.stanford.edu "$CB_TOOLS" "$CB_CACHE_ROOT/$CB_RELEASE-cbench-campus"
  cb_mail_container "$CB_MAIL" "$CB_MAIL_IP" mail.tm-test.stanford.edu "$CB_BASE"
  cb_inventory "$CB_MAIL"
  cb_log "prepare (not timed): PKI, credentials, campus smarthost and collector (log: $CB_OUT/prepare.log)"
  ansible-playbook -i "$CB_INV/hosts.yml" -e "tm_cbench_mail=$CB_MAIL tm_cbench_campus=$CB_CAMPUS" \
    tests/bench/converge-prepare.yml >"$CB_OUT/prepare.log" 2>&1 \
    || { tail -n 30 "$CB_OUT/prepare.log" >&2; return 1; }
}

# cb_playbook LOG ARGS...: ansible-playbook, timed; prints "seconds rc".
cb_playbook() {
  local log=$1 t0 t1 rc=0
  shift
  t0=$(cb_now)
  ansible-playbook "$@" >"$log" 2>&1 || rc=$?
  t1=$(cb_now)
  echo "$(cb_secs "$t0" "$t1") $rc"
}

# cb_recap LOG HOST FIELD: a number from the PLAY RECAP line of HOST (ok, changed, failed...).
cb_recap() {
  awk -v h="$2" -v f="$3" '$1 == h && $2 == ":" { for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == f) v = kv[2] } } END { print v + 0 }' "$1"
}

# cb_profile LOG: profile_tasks' per-task summary (the slowest first) from a playbook log.
cb_profile() {
  sed -n '/^TASKS RECAP/,$p' "$1" | grep -E -- ' -+ +[0-9]+\.[0-9]+s$' | head -n 25
}
