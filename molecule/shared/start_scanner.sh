#!/bin/bash
# Start a bad state's scanner (clamd, Postfix, clamav-milter) after its prepare step has
# configured it. Shared by the antivirus and faults scenarios.
#
# clamd first, and only once it answers on its socket the milter. Debian 12 starts
# clamav-milter through its SysV script, and that start has been seen to wait out the whole
# 5-minute systemd start timeout (in a full parallel test run): each start gets 60 s here,
# up to three times. The drop-in goes again afterwards, so the converged host does not keep it.
set -euo pipefail
systemctl daemon-reload
systemctl restart clamav-daemon
for _ in $(seq 180); do [ -S /run/clamav/clamd.ctl ] && break; sleep 1; done
[ -S /run/clamav/clamd.ctl ] || { echo "clamd did not open its socket in 180 s" >&2; exit 1; }
systemctl restart postfix@-
mkdir -p /etc/systemd/system/clamav-milter.service.d
printf '[Service]\nTimeoutStartSec=60\n' > /etc/systemd/system/clamav-milter.service.d/tm-test-start.conf
systemctl daemon-reload
for _ in 1 2 3; do
  systemctl restart clamav-milter && break
  systemctl reset-failed clamav-milter || true
done
rm -rf /etc/systemd/system/clamav-milter.service.d
systemctl daemon-reload
for _ in $(seq 60); do [ -S /var/spool/postfix/clamav/clamav-milter.ctl ] && break; sleep 1; done
[ -S /var/spool/postfix/clamav/clamav-milter.ctl ] || { echo "clamav-milter did not open its socket" >&2; exit 1; }
