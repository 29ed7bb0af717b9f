#!/usr/bin/env bash
# Install what the tests and the demo need on this (Debian 12) machine, once.
#  - podman, runc, debootstrap: the throwaway systemd containers (TEST-ENVIRONMENT.md)
#  - postfix: the real `postconf` for the postconf module's unit tests. A policy-rc.d
#    keeps apt from starting a mail daemon on this machine while it installs.
#  - chromium: renders the audit's HTML report headless in the compliance scenario.
set -euo pipefail
need=()
for pkg in podman runc debootstrap postfix openssl python3-venv chromium; do
  dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing on this machine: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
policy=/usr/sbin/policy-rc.d
created_policy=no
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=yes
fi
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
[ "$created_policy" = yes ] && rm -f "$policy"
exit 0
