#!/usr/bin/env bash
# Create the podman networks the test scenarios and the demo use (idempotent).
#   tm-campus   172.24.77.0/24   inside the University's 172.24.0.0/14: a campus network
#   tm-outside  198.51.100.0/24  TEST-NET-2: an address outside the University
set -euo pipefail
export CONTAINERS_CONF="${CONTAINERS_CONF:-$(cd "$(dirname "$0")" && pwd)/containers.conf}"
declare -A nets=([tm-campus]=172.24.77.0/24 [tm-outside]=198.51.100.0/24)
for net in "${!nets[@]}"; do
  podman network exists "$net" || podman network create --subnet "${nets[$net]}" "$net" >/dev/null
done
