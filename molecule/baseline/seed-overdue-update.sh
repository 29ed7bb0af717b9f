#!/bin/sh
# Bad state for MS-PATCH's deadlines: a security update that has been pending for ten days.
# A local archive whose Release says Origin Debian, Label Debian-Security and the release's
# -security suite offers tm-patch-probe 1.1; 1.0 is installed. apt sees a real pending
# security update. The ten days are the one thing made up: the patch report is seeded
# with the report a daily run would have written, first_seen ten days ago.
set -eu
codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
repo=/srv/tm-security
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build() {
    mkdir -p "$work/$1/DEBIAN"
    cat > "$work/$1/DEBIAN/control" <<CONTROL
Package: tm-patch-probe
Version: $1
Architecture: all
Maintainer: stanford.trusted_mail tests <root@localhost>
Description: stand-in package for the MS-PATCH deadline checks
CONTROL
    dpkg-deb --build --root-owner-group "$work/$1" "$work/tm-patch-probe_$1_all.deb" >/dev/null
}
build 1.0
build 1.1
dpkg -i "$work/tm-patch-probe_1.0_all.deb" >/dev/null
mkdir -p "$repo"
cp "$work/tm-patch-probe_1.1_all.deb" "$repo/"
deb="$repo/tm-patch-probe_1.1_all.deb"
{
    dpkg-deb --field "$deb"
    echo "Filename: ./tm-patch-probe_1.1_all.deb"
    echo "Size: $(stat -c %s "$deb")"
    echo "SHA256: $(sha256sum "$deb" | cut -d' ' -f1)"
    echo
} > "$repo/Packages"
cat > "$repo/Release" <<RELEASE
Origin: Debian
Label: Debian-Security
Suite: $codename-security
Codename: $codename-security
Date: $(date -Ru)
SHA256:
 $(sha256sum "$repo/Packages" | cut -d' ' -f1) $(stat -c %s "$repo/Packages") Packages
RELEASE
echo "deb [trusted=yes] file:$repo ./" > /etc/apt/sources.list.d/tm-security.list
apt-get update -qq -o Dir::Etc::sourcelist=/etc/apt/sources.list.d/tm-security.list -o Dir::Etc::sourceparts=-
apt-get --simulate -o Debug::NoLocking=1 dist-upgrade | grep '^Inst tm-patch-probe '
now=$(date +%s)
mkdir -p /var/lib/trusted-mail
# The last report, written four days ago on the update's sixth day pending (not overdue
# then; nothing has refreshed it since, and the checks count from first_seen).
cat > /var/lib/trusted-mail/patch-status.json <<REPORT
{"requirements": ["MS-PATCH", "MS-VULN"], "checked_at": $((now - 4 * 86400)),
 "os": {"id": "debian", "supported": true}, "pending_updates": 1, "pending_security_updates": 1,
 "security_updates": [{"package": "tm-patch-probe", "installed": "1.0", "candidate": "1.1",
                       "origins": "Debian-Security:$codename-security", "security": true,
                       "first_seen": $((now - 10 * 86400)), "days_pending": 6}],
 "other_updates": [], "reboot_required": false, "reboot_required_by": [], "reboot_required_since": null,
 "overdue": [], "reboot_overdue": false}
REPORT
