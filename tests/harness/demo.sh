#!/usr/bin/env bash
# The README's first command (make demo): provision a throwaway systemd container into a
# trusted mail server with playbooks/site.yml and the example site's settings, then run
# the host checks against it and print the per-requirement summary.
#   tests/harness/demo.sh          (re)create the container tm-demo-mail and converge it
#   tests/harness/demo.sh --clean  remove the container and the demo's files
# The run ends with the audit report of the container (scripts/tm-audit: the same checks
# molecule verifies with; JSON, HTML and JUnit XML in build/demo/audit/).
set -euo pipefail
cd "$(dirname "$0")/../.."
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/tests/harness/containers.conf}
name=tm-demo-mail
release=${TM_RELEASE:-bookworm}
dir=build/demo

podman rm -f -t 0 --ignore "$name" >/dev/null
rm -rf "$dir"
if [ "${1:-}" = "--clean" ]; then
  echo "removed $name and $dir"
  exit 0
fi

mkdir -p "$dir" "/var/cache/trusted-mail/apt/$release-demo"
podman run -d --name "$name" --hostname mail.demo.stanford.edu --systemd=always \
  --network tm-campus:ip=172.24.77.50 \
  --volume "/var/cache/trusted-mail/apt/$release-demo:/var/cache/apt/archives:z" \
  "localhost/trusted-mail-base:$release" /sbin/init >/dev/null
podman exec "$name" systemctl is-system-running --wait >/dev/null || true

# The example site's settings, and only what a container on this machine needs on top.
cp -r inventories/example/group_vars "$dir/group_vars"
cat >"$dir/hosts.yml" <<INVENTORY
---
trusted_mail:
  hosts:
    $name:
      ansible_connection: containers.podman.podman
      ansible_become: false   # already root in the container
      ansible_python_interpreter: /usr/bin/python3
      mta_myhostname: mail.demo.stanford.edu
      mta_tls_cert_source: selfsigned   # a real site installs its certificate instead
      mta_root_alias: ""
INVENTORY

echo "== demo only: ClamAV's test signature (this machine cannot download the real ones)"
ansible-playbook -i "$dir/hosts.yml" molecule/shared/clamav_test_db.yml | tail -n 2

echo "== converging $name with playbooks/site.yml"
ANSIBLE_PIPELINING=true ansible-playbook -i "$dir/hosts.yml" playbooks/site.yml | tail -n 4

podman exec "$name" systemctl start trusted-mail-av-freshness.service >/dev/null 2>&1 || true
echo "signature freshness monitor (TM-04): $(podman exec "$name" journalctl -q --no-pager -t trusted-mail-av -n 1 -o cat)"
echo "  (this demo runs on ClamAV's test signature only: the machine cannot download the official ones)"

echo "== audit of $name (scripts/tm-audit; add --active for the EICAR canary and AUTH probe)"
scripts/tm-audit -q -i "$dir/hosts.yml" -l "$name" -o "$dir/audit" || true
status=0
python tests/harness/summary.py "$dir/audit/report.json" || status=$?
echo "details: $dir/audit/report.html (report.json, junit.xml; the checks' log in hosts/$name/checks.log)"
echo "remove the container with: make demo-clean"
exit $status
