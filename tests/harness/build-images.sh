#!/usr/bin/env bash
# Build (or reuse) the local test images with debootstrap and `podman import`.
#
#   tests/harness/build-images.sh [bookworm|trixie ...]
#
# Two images per release:
#   localhost/trusted-mail-base:<release>   a plain minimal Debian server (the
#                                           host under test: no MTA, no syslog, no cron)
#   localhost/trusted-mail-tools:<release>  base + swaks, Postfix's smtp-source/smtp-sink,
#                                           openssl, zip and gpg, for the test clients and sinks
# Each image carries a label with the hash of its recipe (this file); an image whose
# label matches is reused, so a rebuild happens only when the recipe changes.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"
recipe=$(sha256sum "$0" | cut -c1-16)
mirror=${TM_DEBIAN_MIRROR:-$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
mirror=${mirror:-http://deb.debian.org/debian}
security_mirror=${TM_DEBIAN_SECURITY_MIRROR:-${mirror%/debian}/debian-security}

current() {  # current IMAGE -> exit 0 when IMAGE exists with this recipe's label
  [ "$(podman image inspect --format '{{ index .Labels "org.stanford.trusted_mail.recipe" }}' "$1" 2>/dev/null)" = "$recipe" ]
}

build_base() {
  local release=$1 image=localhost/trusted-mail-base:$1 rootfs
  if current "$image"; then echo "reuse $image"; return; fi
  echo "build $image from $mirror"
  rootfs=$(mktemp -d /var/tmp/tm-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs"' RETURN
  debootstrap --variant=minbase \
    --include=systemd,systemd-sysv,python3,iproute2,ca-certificates \
    "$release" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || { tail -20 "$rootfs.log"; exit 1; }
  rm -f "$rootfs.log"
  cat >"$rootfs/etc/apt/sources.list" <<SOURCES
deb $mirror $release main
deb $mirror $release-updates main
deb $security_mirror $release-security main
SOURCES
  # CI's network to the archive can drop out for a minute: apt retries each download
  # (bookworm's default is 3 tries, seen to run out), waiting up to 30 s between tries.
  cat >"$rootfs/etc/apt/apt.conf.d/80tm-test-retries" <<'APT'
Acquire::Retries "10";
Acquire::Retries::Delay::Maximum "30";
APT
  # A container has no console to log in on and no hardware clock to sync.
  chroot "$rootfs" systemctl mask getty@tty1.service console-getty.service systemd-timesyncd.service >/dev/null 2>&1 || true
  : >"$rootfs/etc/machine-id"
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
  tar -C "$rootfs" -c . | podman import \
    --change 'CMD ["/sbin/init"]' \
    --change "LABEL org.stanford.trusted_mail.recipe=$recipe" - "$image" >/dev/null
}

build_tools() {
  local release=$1 image=localhost/trusted-mail-tools:$1 name
  if current "$image"; then echo "reuse $image"; return; fi
  echo "build $image"
  name=tm-tools-build-$release-$$
  podman run --name "$name" "localhost/trusted-mail-base:$release" sh -ec '
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get install -y -qq --no-install-recommends postfix swaks openssl procps zip gpg gpg-agent >/dev/null
    systemctl disable postfix >/dev/null 2>&1 || true
    rm -rf /var/lib/apt/lists/*' >/dev/null
  podman commit --change "LABEL org.stanford.trusted_mail.recipe=$recipe" "$name" "$image" >/dev/null
  podman rm -f "$name" >/dev/null
}

for release in "${@:-bookworm}"; do
  build_base "$release"
  build_tools "$release"
done
podman image prune -f >/dev/null  # the images a rebuild replaced
