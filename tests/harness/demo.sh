#!/usr/bin/env bash
# The README's first command (make demo): provision a throwaway systemd container into a
# trusted mail server with playbooks/site.yml and the example site's settings, then run
# the host checks against it and print the per-requirement summary.
#   tests/harness/demo.sh          (re)create the container tm-demo-mail and converge it
#   tests/harness/demo.sh --clean  remove the containers and the demo's files
# A second container, tm-demo-logs, plays the department's central log collector.
# Certificates, the administrator's SSH key and TOTP secret are made here, at run time,
# in build/demo (never in the repository).
# The run ends with the audit report of the container (scripts/tm-audit: the same checks
# molecule verifies with; JSON, HTML and JUnit XML in build/demo/audit/).
set -euo pipefail
cd "$(dirname "$0")/../.."
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/tests/harness/containers.conf}
export ANSIBLE_CONNECTION_PLUGINS=$PWD/tests/harness/connection_plugins  # tm_podman
name=tm-demo-mail
logs=tm-demo-logs
release=${TM_RELEASE:-bookworm}
dir=build/demo

podman rm -f -t 0 --ignore "$name" "$logs" >/dev/null
rm -rf "$dir"
if [ "${1:-}" = "--clean" ]; then
  echo "removed $name, $logs and $dir"
  exit 0
fi

mkdir -p "$dir" "/var/cache/trusted-mail/apt/$release-demo"
# NET_ADMIN: the firewall applies to the container's own network namespace; SYS_PTRACE,
# which root has on a real host, lets `ss -p` name Postfix's master for TM-08's check.
podman run -d --name "$name" --hostname mail.demo.stanford.edu --systemd=always \
  --network tm-campus:ip=172.24.77.50 --add-host logs.demo.stanford.edu:172.24.77.51 \
  --cap-add AUDIT_WRITE --cap-add NET_ADMIN --cap-add SYS_PTRACE \
  --volume "/var/cache/trusted-mail/apt/$release-demo:/var/cache/apt/archives:z" \
  "localhost/trusted-mail-base:$release" /sbin/init >/dev/null
podman run -d --name "$logs" --hostname logs.demo.stanford.edu --systemd=always \
  --network tm-campus:ip=172.24.77.51 \
  --volume "/var/cache/trusted-mail/apt/$release-demo:/var/cache/apt/archives:z" \
  "localhost/trusted-mail-base:$release" /sbin/init >/dev/null
podman exec "$name" systemctl is-system-running --wait >/dev/null || true
podman exec "$logs" systemctl is-system-running --wait >/dev/null || true

# Made here, at run time: a test CA with the collector's and the mail host's
# certificates, and the administrator's SSH key and TOTP secret.
pki=$PWD/$dir/pki
ansible-playbook molecule/shared/pki.yml -e "tm_test_dir=$pki" \
  -e '{"tm_test_names": {"mail": "mail.demo.stanford.edu", "relay": "logs.demo.stanford.edu"}}' | tail -n 2
ssh-keygen -q -t ed25519 -N "" -C admin@demo -f "$dir/admin"
(umask 077; python3 -c 'import base64, os; print(base64.b32encode(os.urandom(20)).decode())' >"$dir/admin.totp")
podman cp "$pki/ca.pem" "$name:/etc/ssl/certs/demo-ca.pem"
podman cp "$pki/mail-client.pem" "$name:/etc/ssl/certs/demo-mail-client.pem"
podman cp "$pki/mail-client.key" "$name:/etc/ssl/private/demo-mail-client.key"

# The example site's settings, and only what a container on this machine needs on top.
cp -r inventories/example/group_vars "$dir/group_vars"
cat >"$dir/hosts.yml" <<INVENTORY
---
trusted_mail:
  hosts:
    $name:
      ansible_connection: tm_podman
      ansible_become: false   # already root in the container
      ansible_python_interpreter: /usr/bin/python3
      mta_myhostname: mail.demo.stanford.edu
      mta_tls_cert_source: selfsigned   # a real site installs its certificate instead
      mta_root_alias: ""
      baseline_patch_mail: ""
      access_admin_users:
        - name: admin
          authorized_keys: ["$(cat "$dir/admin.pub")"]
          totp_secret: "$(cat "$dir/admin.totp")"
      baseline_ssh_sources: [172.24.77.0/24]
      maillog_forward_host: logs.demo.stanford.edu
      maillog_forward_ca_file: /etc/ssl/certs/demo-ca.pem
      maillog_forward_client_cert_file: /etc/ssl/certs/demo-mail-client.pem
      maillog_forward_client_key_file: /etc/ssl/private/demo-mail-client.key
      maillog_expected_daily_mb: 5
logs:
  hosts:
    $logs:
      ansible_connection: tm_podman
      ansible_python_interpreter: /usr/bin/python3
INVENTORY

echo "== demo only: the department's log collector ($logs)"
ansible-playbook -i "$dir/hosts.yml" molecule/shared/collector.yml -e tm_collector=$logs -e tm_collector_cert=relay \
  -e "tm_collector_pki_dir=$pki" -e tm_collector_peer=mail.demo.stanford.edu | tail -n 2

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
echo "SSH: ssh -i $dir/admin admin@172.24.77.50 (key, then a one-time code from the secret in $dir/admin.totp)"
echo "remove the containers with: make demo-clean"
exit $status
