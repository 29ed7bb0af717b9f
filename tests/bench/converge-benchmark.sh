#!/usr/bin/env bash
# Converge speed benchmark (issue 8, "Speed"), see docs/benchmarks.md "Converge and audit speed".
# In one run on this machine:
#   1. first converge of stanford.trusted_mail.site on a fresh container (trusted-mail-base),
#      with molecule/default's inventory (the example group_vars + its host_vars);
#   2. the idempotent second run: wall time and changed count (must be 0);
#   3. the floor: one plain `apt-get update` + `apt-get install` of the same package set (the
#      packages the converge left marked manually installed that the image does not have) on
#      another fresh container from the same image, starting from the same apt cache state.
# Results: JSON lines in docs/bench/converge-<date>.jsonl, profile_tasks' top 25 of both runs in
# docs/bench/converge-<date>-profile.txt, a table on stdout.
#
#   tests/bench/converge-benchmark.sh           measure, remove every container it started
#   tests/bench/converge-benchmark.sh --keep    leave tm-cbench-mail and tm-cbench-campus running
# Settings (environment): CBENCH_OUT (work directory; a fresh /tmp/tm-cbench.* by default),
#   CBENCH_RESULTS (docs/bench), CBENCH_DATE (today, UTC), CBENCH_FORKS (ansible forks, 5).
# Apt cache: the mail host mounts /var/cache/trusted-mail/apt/<release>-cbench, kept between runs
# (warm after the first run). The floor host gets a cache holding exactly the .deb files that
# cache held before the converge started (hard links), so both start from the same state.
set -euo pipefail
KEEP=0
case "${1:-}" in --keep) KEEP=1 ;; "") ;; *) echo "usage: $0 [--keep]" >&2; exit 2 ;; esac
CB_OUT=${CBENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/tm-cbench.XXXXXX")}
mkdir -p "$CB_OUT"
CB_OUT=$(cd "$CB_OUT" && pwd)
# shellcheck source=tests/bench/converge-lib.sh
. "$(dirname "$0")/converge-lib.sh"
export ANSIBLE_FORKS=${CBENCH_FORKS:-5}
RESULTS=${CBENCH_RESULTS:-$PWD/docs/bench}
DATE=${CBENCH_DATE:-$(date -u +%F)}
JSONL=$RESULTS/converge-$DATE.jsonl
PROFILE=$RESULTS/converge-$DATE-profile.txt
FLOOR=tm-cbench-floor FLOOR_IP=172.24.77.122
CACHE=$CB_CACHE_ROOT/$CB_RELEASE-cbench
FLOOR_CACHE=$CB_CACHE_ROOT/$CB_RELEASE-cbench-floor
RUN_ID=$(date -u +%FT%TZ)
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
# Outside a git checkout (an unpacked release, say) the count is unknown: null in the JSON.
if git rev-parse --git-dir >/dev/null 2>&1; then
  DIRTY=$(git --no-optional-locks status --porcelain -- roles playbooks plugins | wc -l)
else
  DIRTY=null
fi
mkdir -p "$RESULTS"

finish() {
  if [ "$KEEP" = 1 ]; then
    podman rm -f -t 0 --ignore "$FLOOR" >/dev/null 2>&1 || true
  else
    cb_cleanup
  fi
}
trap finish EXIT

emit() {  # one JSON object (python dict literal of keyword args) -> the results file
  python3 - "$JSONL" "$@" <<'PY'
import json, sys
path, pairs = sys.argv[1], sys.argv[2:]
rec = {}
for p in pairs:
    k, _, v = p.partition("=")
    try:
        rec[k] = json.loads(v)
    except ValueError:
        rec[k] = v
with open(path, "a") as f:
    f.write(json.dumps(rec) + "\n")
PY
}
common=("run=\"$RUN_ID\"" "commit=\"$COMMIT\"" "roles_uncommitted_files=$DIRTY" "release=\"$CB_RELEASE\"")

# ---------------------------------------------------------------- set-up (not timed)
cb_setup
# A first run on this machine seeds the (empty) cache from molecule/default's, read only (hard links).
SEED=${CBENCH_SEED_CACHE:-$CB_CACHE_ROOT/$CB_RELEASE-default}
if [ -d "$SEED" ] && [ -z "$(find "$CACHE" -maxdepth 1 -name '*.deb' -print -quit)" ]; then
  find "$SEED" -maxdepth 1 -name '*.deb' -exec ln -f {} "$CACHE"/ \;
fi
find "$CACHE" -maxdepth 1 -name '*.deb' -printf '%f\n' | sort >"$CB_OUT/cache-before.txt"
CACHE_DEBS_BEFORE=$(wc -l <"$CB_OUT/cache-before.txt")
cb_log "apt cache $CACHE holds $CACHE_DEBS_BEFORE .deb files before the converge"

# ---------------------------------------------------------------- 1. first converge
LOAD1=$(cb_load)
cb_log "1. first converge of site.yml on the fresh $CB_MAIL (load $LOAD1; log $CB_OUT/converge-1.log)"
read -r FIRST_S FIRST_RC < <(cb_playbook "$CB_OUT/converge-1.log" -i "$CB_INV/hosts.yml" stanford.trusted_mail.site)
if [ "$FIRST_RC" != 0 ]; then tail -n 40 "$CB_OUT/converge-1.log" >&2; echo "first converge failed (rc $FIRST_RC)" >&2; exit 1; fi
LOAD1_END=$(cb_load)
FIRST_CHANGED=$(cb_recap "$CB_OUT/converge-1.log" "$CB_MAIL" changed)
FIRST_OK=$(cb_recap "$CB_OUT/converge-1.log" "$CB_MAIL" ok)
find "$CACHE" -maxdepth 1 -name '*.deb' -printf '%f\n' | sort >"$CB_OUT/cache-after.txt"
DOWNLOADED=$(comm -13 "$CB_OUT/cache-before.txt" "$CB_OUT/cache-after.txt" | wc -l)
cb_log "   ${FIRST_S} s, ok=$FIRST_OK changed=$FIRST_CHANGED, $DOWNLOADED .deb files downloaded"

# ---------------------------------------------------------------- 2. idempotent re-run
LOAD2=$(cb_load)
cb_log "2. second converge, must change nothing (load $LOAD2; log $CB_OUT/converge-2.log)"
read -r SECOND_S SECOND_RC < <(cb_playbook "$CB_OUT/converge-2.log" -i "$CB_INV/hosts.yml" stanford.trusted_mail.site)
LOAD2_END=$(cb_load)
SECOND_CHANGED=$(cb_recap "$CB_OUT/converge-2.log" "$CB_MAIL" changed)
SECOND_OK=$(cb_recap "$CB_OUT/converge-2.log" "$CB_MAIL" ok)
echo "   recap of the second run:" >&2
sed -n '/^PLAY RECAP/,/^$/p' "$CB_OUT/converge-2.log" >&2
if [ "$SECOND_CHANGED" != 0 ]; then
  echo "   NOT IDEMPOTENT: tasks that changed on the second run:" >&2
  grep -E '^changed:' -B 3 "$CB_OUT/converge-2.log" | grep -E '^TASK' >&2 || true
fi

# ---------------------------------------------------------------- 3. the floor: apt-get install
# The package set: what the converged host has marked manually installed and the image has not.
podman exec "$CB_MAIL" apt-mark showmanual | sort >"$CB_OUT/manual-converged.txt"
podman exec "$CB_MAIL" dpkg-query -W -f '${Package}\n' | sort >"$CB_OUT/dpkg-converged.txt"
# The floor host's cache: the mail host's cache as it was before the converge.
rm -rf "$FLOOR_CACHE"; mkdir -p "$FLOOR_CACHE/partial"
while read -r deb; do ln "$CACHE/$deb" "$FLOOR_CACHE/$deb"; done <"$CB_OUT/cache-before.txt"
cb_log "3. floor: fresh $FLOOR ($FLOOR_IP), cache with the same $CACHE_DEBS_BEFORE .deb files"
cb_run "$FLOOR" "$FLOOR_IP" floor.tm-test.stanford.edu "$CB_BASE" "$FLOOR_CACHE"
podman exec "$FLOOR" apt-mark showmanual | sort >"$CB_OUT/manual-image.txt"
podman exec "$FLOOR" dpkg-query -W -f '${Package}\n' | sort >"$CB_OUT/dpkg-image.txt"
comm -23 "$CB_OUT/manual-converged.txt" "$CB_OUT/manual-image.txt" >"$CB_OUT/packages.txt"
mapfile -t PKGS <"$CB_OUT/packages.txt"
[ "${#PKGS[@]}" -gt 0 ] || { echo "empty package set: nothing was installed by the converge?" >&2; exit 1; }
cb_log "   package set (${#PKGS[@]}): ${PKGS[*]}"
LOAD3=$(cb_load)
t0=$(cb_now)
podman exec "$FLOOR" apt-get update -qq >"$CB_OUT/floor.log" 2>&1
t1=$(cb_now)
podman exec -e DEBIAN_FRONTEND=noninteractive "$FLOOR" apt-get install -y -q --no-install-recommends "${PKGS[@]}" \
  >>"$CB_OUT/floor.log" 2>&1
t2=$(cb_now)
LOAD3_END=$(cb_load)
FLOOR_UPDATE_S=$(cb_secs "$t0" "$t1") FLOOR_INSTALL_S=$(cb_secs "$t1" "$t2") FLOOR_S=$(cb_secs "$t0" "$t2")
podman exec "$FLOOR" dpkg-query -W -f '${Package}\n' | sort >"$CB_OUT/dpkg-floor.txt"
ADDED_CONVERGE=$(comm -13 "$CB_OUT/dpkg-image.txt" "$CB_OUT/dpkg-converged.txt" | wc -l)
ADDED_FLOOR=$(comm -13 "$CB_OUT/dpkg-image.txt" "$CB_OUT/dpkg-floor.txt" | wc -l)
ONLY_CONVERGE=$(comm -23 "$CB_OUT/dpkg-converged.txt" "$CB_OUT/dpkg-floor.txt" | tr '\n' ' ')
ONLY_FLOOR=$(comm -13 "$CB_OUT/dpkg-converged.txt" "$CB_OUT/dpkg-floor.txt" | tr '\n' ' ')
cb_log "   floor ${FLOOR_S} s (update ${FLOOR_UPDATE_S} s + install ${FLOOR_INSTALL_S} s); packages added: converge $ADDED_CONVERGE, floor $ADDED_FLOOR"

# ---------------------------------------------------------------- results
R1=$(python3 -c "import sys; print(round(float(sys.argv[1]) / float(sys.argv[2]), 2))" "$FIRST_S" "$FLOOR_S")
R2=$(python3 -c "import sys; print(round(float(sys.argv[1]) / float(sys.argv[2]), 2))" "$SECOND_S" "$FIRST_S")
M1=$(python3 -c "import sys; print('true' if float(sys.argv[1]) <= 2 else 'false')" "$R1")
M2=$(python3 -c "import sys; print('true' if float(sys.argv[1]) <= 0.40 and sys.argv[2] == '0' else 'false')" "$R2" "$SECOND_CHANGED")
CACHE_STATE=warm; [ "$DOWNLOADED" -gt 0 ] && CACHE_STATE="partly cold ($DOWNLOADED .deb downloaded by each)"
[ "$CACHE_DEBS_BEFORE" = 0 ] && CACHE_STATE=cold
PIPELINING=$(ansible-config dump 2>/dev/null | awk -F'= ' '/^ANSIBLE_PIPELINING/ {print $2}')
# The podman connection plugin declares has_pipelining = False: the setting has no effect there.
PODMAN_PIPE=$(python3 - <<'PY'
import glob, os, re
for root in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(":") + [os.path.join(os.environ.get("VIRTUAL_ENV", ".venv"), "lib")]:
    for f in glob.glob(os.path.join(root, "**", "containers", "podman", "plugins", "connection", "podman.py"), recursive=True):
        m = re.search(r"has_pipelining\s*=\s*(\w+)", open(f).read())
        if m:
            print(m.group(1).lower()); raise SystemExit
print("unknown")
PY
)
# What site.yml gathers (all facts until gather_subset was set).
FACT_SUBSET=$(python3 -c 'import yaml; print(",".join(yaml.safe_load(open("playbooks/site.yml"))[0].get("gather_subset", ["all"])))')
emit "${common[@]}" 'measure="settings"' "cores=$(nproc)" "forks=$ANSIBLE_FORKS" "pipelining=\"$PIPELINING\"" "podman_connection_pipelining=\"$PODMAN_PIPE\"" \
  "connection=${CBENCH_CONNECTION:-tm_podman}" \
  "fact_gathering=\"site.yml gather_subset: $FACT_SUBSET\"" \
  'callbacks="ansible.posix.profile_tasks"' "apt_cache=\"$CACHE_STATE\"" "cache_debs_before=$CACHE_DEBS_BEFORE" \
  "ansible=\"$(ansible --version | head -n 1)\""
emit "${common[@]}" 'measure="first_converge"' "wall_s=$FIRST_S" "rc=$FIRST_RC" "ok=$FIRST_OK" "changed=$FIRST_CHANGED" \
  "debs_downloaded=$DOWNLOADED" "load=\"$LOAD1\"" "load_end=\"$LOAD1_END\""
emit "${common[@]}" 'measure="second_converge"' "wall_s=$SECOND_S" "rc=$SECOND_RC" "ok=$SECOND_OK" "changed=$SECOND_CHANGED" \
  "load=\"$LOAD2\"" "load_end=\"$LOAD2_END\""
emit "${common[@]}" 'measure="apt_floor"' "wall_s=$FLOOR_S" "update_s=$FLOOR_UPDATE_S" "install_s=$FLOOR_INSTALL_S" \
  "packages_requested=${#PKGS[@]}" "packages_added_floor=$ADDED_FLOOR" "packages_added_converge=$ADDED_CONVERGE" \
  "only_on_converged=\"$ONLY_CONVERGE\"" "only_on_floor=\"$ONLY_FLOOR\"" \
  "package_set=\"${PKGS[*]}\"" "load=\"$LOAD3\"" "load_end=\"$LOAD3_END\""
emit "${common[@]}" 'measure="ratios"' "first_over_floor=$R1" 'first_over_floor_goal=2' "first_over_floor_met=$M1" \
  "rerun_over_first=$R2" 'rerun_over_first_goal=0.4' "rerun_met=$M2" "rerun_changed=$SECOND_CHANGED"

{
  echo "# converge-benchmark.sh, run $RUN_ID, commit $COMMIT ($DIRTY uncommitted files under roles/ playbooks/ plugins/)"
  echo "# $(nproc) cores (shared), forks $ANSIBLE_FORKS, pipelining $PIPELINING (podman connection: $PODMAN_PIPE), apt cache $CACHE_STATE"
  echo "## first converge: ${FIRST_S} s, load $LOAD1 (profile_tasks, slowest 25)"
  cb_profile "$CB_OUT/converge-1.log"
  echo "## second converge: ${SECOND_S} s, changed=$SECOND_CHANGED, load $LOAD2 (profile_tasks, slowest 25)"
  cb_profile "$CB_OUT/converge-2.log"
  echo "## time per role"
  python3 tests/bench/converge-roles.py "$CB_OUT/converge-1.log" "$CB_OUT/converge-2.log"
} >>"$PROFILE"

echo
echo "| measure | wall s | detail |"
echo "|---|---|---|"
echo "| first converge of site.yml (fresh container) | $FIRST_S | ok=$FIRST_OK changed=$FIRST_CHANGED, load $LOAD1 -> $LOAD1_END |"
echo "| second converge (idempotent) | $SECOND_S | ok=$SECOND_OK changed=$SECOND_CHANGED, load $LOAD2 -> $LOAD2_END |"
echo "| floor: apt-get update + install of ${#PKGS[@]} packages | $FLOOR_S | update $FLOOR_UPDATE_S s, install $FLOOR_INSTALL_S s, load $LOAD3 |"
echo "| first / floor (goal <= 2) | $R1 | met: $M1 |"
echo "| second / first (goal <= 0.40, changed 0) | $R2 | met: $M2 |"
echo
echo "apt cache: $CACHE_STATE; packages added by converge $ADDED_CONVERGE, by floor $ADDED_FLOOR"
echo "only on the converged host: ${ONLY_CONVERGE:-none}; only on the floor host: ${ONLY_FLOOR:-none}"
echo "results: $JSONL, profile: $PROFILE, logs: $CB_OUT"
