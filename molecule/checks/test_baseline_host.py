"""TM-01 (MS-PATCH, MS-VULN, MS-FIREWALL, MS-IDS), TM-07 and TM-08 checks that need only the host.

Shared by the baseline scenario's verify step and meant for the live audit: each check
reads the host's own state (packages, units, the loaded ruleset, listening sockets, the
reports the baseline role's timers write) and, where it can, makes the host do the real
thing (unattended-upgrades parses its configuration). Two checks change the host for a
moment (a pending-reboot flag in /run, a file in /usr/local/bin for AIDE to find): they
are marked ``active`` and run in a live audit only when asked (TM_AUDIT_ACTIVE=1); the
baseline scenario sets it.
"""

import ipaddress
import json
import re
import shlex
import time

import pytest
from audit_expect import expected

TELNET_RSH_FTP = ["telnetd", "inetutils-telnetd", "telnetd-ssl", "rsh-server", "rsh-redone-server", "ftpd",
                  "inetutils-ftpd", "vsftpd", "proftpd-basic", "pure-ftpd", "tftpd", "tftpd-hpa", "atftpd"]
UNNEEDED = ["xinetd", "openbsd-inetd", "inetutils-inetd", "rpcbind", "nfs-kernel-server", "avahi-daemon",
            "cups-daemon", "samba", "snmpd", "exim4-daemon-light", "exim4-daemon-heavy"]
MASKED = ["rpcbind.service", "rpcbind.socket", "inetd.service", "inetutils-inetd.service", "xinetd.service",
          "avahi-daemon.service", "avahi-daemon.socket", "cups.socket", "cups.service", "nfs-server.service"]
# Ports no allowlist of a mail relay may open, whatever the site added.
NEVER = {21, 23, 69, 111, 512, 513, 514, 631, 2049, 5353}
ALLOWLIST = "/etc/trusted-mail/listen-allowlist.json"
SSH_PORT = int(expected("baseline_ssh_port", 22))
STATE = "/var/lib/trusted-mail"
# Imports /usr/bin/unattended-upgrade as a module and prints its allowed origins. Run with
# python3 -B: an import would otherwise leave a bytecode cache in /usr/bin/__pycache__,
# which AIDE rightly reports as a new program.
ALLOWED_ORIGINS = """
import importlib.machinery, importlib.util, apt_pkg
loader = importlib.machinery.SourceFileLoader("unattended_upgrade", "/usr/bin/unattended-upgrade")
module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
loader.exec_module(module)
apt_pkg.init_config()
print("\\n".join(module.get_allowed_origins()))
"""


@pytest.fixture(scope="module")
def mail(hosts):
    return hosts["mail"]


def read_json(host, path):
    f = host.file(path)
    assert f.exists, "%s is missing" % path
    return json.loads(f.content_string)


def listening(host):
    """(proto, address, port, {processes}) for every listening TCP / bound UDP socket."""
    found = []
    for line in host.check_output("ss -Hltnup").splitlines():
        fields = line.split()
        addr, _, port = fields[4].rpartition(":")
        found.append((fields[0], addr.strip("[]").split("%")[0], int(port),
                      set(re.findall(r'\("([^"]+)",pid=', " ".join(fields[6:])))))
    return found


def is_loopback(addr):
    try:
        return ipaddress.ip_address(addr).is_loopback
    except ValueError:
        return False


def apt_config(host):
    return host.check_output("apt-config dump")


# --- TM-07 / TM-08 ---------------------------------------------------------------------------

@pytest.mark.requirement("TM-07")
@pytest.mark.debian_default
def test_no_telnet_rsh_or_ftp_server(mail):
    installed = [p for p in TELNET_RSH_FTP if mail.package(p).is_installed]
    assert not installed, "clear-text login servers installed: %s" % installed
    on_23 = [s for s in listening(mail) if s[2] == 23]
    assert not on_23, "something listens on the telnet port: %s" % on_23


@pytest.mark.requirement("TM-08")
def test_unneeded_network_packages_purged(mail):
    # The second letter is the package's state: anything but n(ot installed) means its files or
    # its configuration are there, held packages (hi) too.
    present = [p for p in UNNEEDED if mail.run("dpkg-query -W -f='${db:Status-Abbrev}' %s" % p).stdout[1:2] not in ("n", "")]
    assert not present, "unneeded network packages present (installed or config left): %s" % present


@pytest.mark.requirement("TM-08")
def test_unneeded_units_masked(mail):
    states = {u: mail.run("systemctl is-enabled %s" % u).stdout.strip() for u in MASKED}
    not_masked = {u: s for u, s in states.items() if s != "masked"}
    assert not not_masked, "units not masked: %s" % not_masked


# What may listen on every address: Postfix's SMTP ports, sshd (on the inventory's port), and
# a DHCP client's socket for the replies to its own requests (a client, not a service).
DHCP_CLIENTS = {"dhclient", "dhcpcd", "systemd-network", "NetworkManager"}


def _may_listen_everywhere(entry):
    processes, port, proto = set(entry.get("processes") or []), int(entry["port"]), entry.get("proto", "tcp")
    if not processes:
        return False
    return ((proto == "tcp" and port in (25, 465, 587) and processes <= {"master", "smtpd"})
            or (proto == "tcp" and port == SSH_PORT and processes == {"sshd"})
            or (proto == "udp" and port in (68, 546) and processes <= DHCP_CLIENTS))


@pytest.mark.requirement("TM-08")
def test_every_listener_is_on_the_allowlist(mail):
    allow = read_json(mail, ALLOWLIST)["allow"]
    ports = {int(e["port"]) for e in allow}
    assert not ports & NEVER, "the allowlist itself allows %s" % sorted(ports & NEVER)
    wide = [e for e in allow if e.get("scope", "loopback") == "any" and not _may_listen_everywhere(e)]
    assert not wide, "allowlist entries open on every address besides SMTP, SSH and a DHCP client: %s" % wide
    offending = []
    for proto, addr, port, procs in listening(mail):
        ok = any(e.get("proto", "tcp") == proto and int(e["port"]) == port and procs and procs <= set(e["processes"])
                 and (e.get("scope", "loopback") == "any" or is_loopback(addr)) for e in allow)
        if not ok:
            offending.append("%s %s:%d %s" % (proto, addr, port, ",".join(sorted(procs)) or "?"))
    assert not offending, "listening sockets not on the allowlist: %s" % offending


@pytest.mark.requirement("TM-08")
@pytest.mark.positive
def test_smtp_listens(mail):
    """The mail service itself still listens (hardening must not switch it off)."""
    assert any(s[2] == 25 and s[0] == "tcp" for s in listening(mail)), listening(mail)


# --- MS-PATCH / MS-VULN ------------------------------------------------------------------------

@pytest.mark.requirement("MS-PATCH")
@pytest.mark.positive
def test_supported_release(mail):
    release = mail.system_info
    assert release.distribution == "debian" and release.release.split(".")[0] in ("12", "13"), \
        "%s %s" % (release.distribution, release.release)


@pytest.mark.requirement("MS-PATCH")
def test_security_updates_install_daily(mail):
    assert mail.package("unattended-upgrades").is_installed, "unattended-upgrades is not installed"
    conf = apt_config(mail)
    assert 'APT::Periodic::Update-Package-Lists "1";' in conf, "package lists not refreshed daily"
    assert 'APT::Periodic::Unattended-Upgrade "1";' in conf, "unattended-upgrades not run daily"
    for timer in ("apt-daily.timer", "apt-daily-upgrade.timer"):
        assert mail.service(timer).is_enabled and mail.service(timer).is_running, "%s not enabled and active" % timer
    # unattended-upgrades' own code reads the configuration and says which origins it takes
    # (what its "Allowed origins are" line prints), without the apt cache a --dry-run loads.
    origins = mail.run("python3 -B -c %s" % shlex.quote(ALLOWED_ORIGINS))
    assert origins.rc == 0, origins.stderr[-1500:]
    assert "Debian-Security" in origins.stdout and "-security" in origins.stdout, origins.stdout[-1500:]


@pytest.mark.requirement("MS-PATCH")
def test_reboot_window_configured(mail):
    conf = apt_config(mail)
    assert 'Unattended-Upgrade::Automatic-Reboot "true";' in conf, "no automatic reboot after updates that need one"
    match = re.search(r'Unattended-Upgrade::Automatic-Reboot-Time "([0-9]{2}:[0-9]{2})";', conf)
    assert match, "no reboot window (Automatic-Reboot-Time)"


def fresh_patch_report(mail):
    """The patch report, refreshed first only when the package lists or the installed
    packages changed after it was written (each refresh loads the apt cache, the slowest
    part of a host's audit); otherwise as it stands, so a report edited by hand is read."""
    report = read_json(mail, STATE + "/patch-status.json")
    lists, dpkg = mail.check_output("stat -c %Y /var/lib/apt/lists/*Release | sort -n | tail -n 1; "
                                    "stat -c %Y /var/lib/dpkg/status").split()
    if int(lists) != report.get("package_lists_updated_at") or int(dpkg) > report.get("checked_at", 0):
        mail.run("systemctl start trusted-mail-patch-status.service")
        report = read_json(mail, STATE + "/patch-status.json")
    return report


@pytest.mark.requirement("MS-PATCH", "MS-VULN")
def test_patch_report_is_current(mail):
    report = read_json(mail, STATE + "/patch-status.json")
    assert time.time() - report["checked_at"] < 26 * 3600, "patch report older than a day"
    timer = mail.service("trusted-mail-patch-status.timer")
    assert timer.is_enabled and timer.is_running, "the patch report is not refreshed daily"
    # The count agrees with apt's own plan, so a report edited by hand fails here.
    report = fresh_patch_report(mail)
    plan = mail.check_output("apt-get --simulate -o Debug::NoLocking=1 dist-upgrade 2>/dev/null | grep -c '^Inst' || true")
    assert report["pending_updates"] == int(plan or 0), "report says %s pending, apt plans %s" % (report["pending_updates"], plan)
    assert report["os"]["supported"] is True


@pytest.mark.requirement("MS-PATCH", "MS-VULN")
def test_no_update_pending_past_its_deadline(mail):
    """MinSec: security patches within 7 days, all others within 90. The host cannot know
    when Debian published an update; the report records when it first saw each one pending
    (at most a day later: the lists are refreshed daily), and the deadlines are counted
    from that here, against the audit's clock. A reboot that an update asked for counts as
    part of it (7 days)."""
    report = fresh_patch_report(mail)
    assert "overdue" in report, "the patch report does not record since when updates are pending (old patch-status)"
    now = time.time()
    late = []
    for key, days in (("security_updates", 7), ("other_updates", 90)):
        for update in report[key]:
            pending = (now - update["first_seen"]) / 86400
            if pending > days:
                late.append("%s %s -> %s (%s, pending %.0f days, deadline %d)" % (
                    update["package"], update["installed"], update["candidate"],
                    "security" if update["security"] else "other", pending, days))
    assert not late, "updates pending past their deadline: " + "; ".join(late)
    since = report["reboot_required_since"]
    assert since is None or now - since <= 7 * 86400, \
        "a reboot has been pending for %.0f days (asked for by %s)" % ((now - since) / 86400, ", ".join(report["reboot_required_by"]) or "?")


@pytest.mark.requirement("MS-PATCH", "MS-VULN")
@pytest.mark.active
def test_patch_report_sees_a_pending_reboot(mail):
    """Active: flags a pending reboot in /run for a moment, then clears it."""
    service = "trusted-mail-patch-status.service"
    try:
        mail.check_output("printf 'linux-image-test\\n' > /run/reboot-required.pkgs && touch /run/reboot-required")
        mail.run("systemctl start %s" % service)
        flagged = read_json(mail, STATE + "/patch-status.json")
    finally:
        mail.run("rm -f /run/reboot-required /run/reboot-required.pkgs")
    mail.run("systemctl start %s" % service)
    cleared = read_json(mail, STATE + "/patch-status.json")
    assert flagged["reboot_required"] is True and flagged["reboot_required_by"] == ["linux-image-test"], flagged
    assert cleared["reboot_required"] is False, "the report still says a reboot is pending"


# --- MS-FIREWALL -----------------------------------------------------------------------------

@pytest.mark.requirement("MS-FIREWALL")
def test_default_deny_inbound_ipv4_and_ipv6(mail):
    cmd = mail.run("nft -j list ruleset")
    assert cmd.rc == 0, "nftables is not available: %s" % cmd.stderr
    chains = [c["chain"] for c in json.loads(cmd.stdout)["nftables"] if "chain" in c]
    inbound = [c for c in chains if c.get("hook") == "input"]
    families = {c["family"] for c in inbound if c.get("policy") == "drop"}
    assert "inet" in families or {"ip", "ip6"} <= families, "no default-deny input chain for IPv4 and IPv6: %s" % inbound


@pytest.mark.requirement("MS-FIREWALL")
def test_firewall_loads_at_boot_and_validates(mail):
    assert mail.service("nftables").is_enabled, "nftables.service is not enabled: the ruleset is lost at reboot"
    check = mail.run("nft -c -f /etc/nftables.conf")
    assert check.rc == 0, check.stderr
    conf = mail.file("/etc/nftables.conf").content_string
    assert "policy drop" in conf, "the boot-time ruleset has no default deny"


@pytest.mark.requirement("MS-FIREWALL")
def test_kernel_network_settings(mail):
    """The settings are installed everywhere; their live values are read on a real host.
    In a container /proc/sys belongs to the container's host, so only the file is checked."""
    conf = mail.file("/etc/sysctl.d/60-trusted-mail-network.conf")
    assert conf.exists, "no kernel network settings installed"
    wanted = dict(re.findall(r"^([a-z0-9_.]+) = (\S+)$", conf.content_string, re.M))
    for key in ("net.ipv4.ip_forward", "net.ipv4.conf.all.accept_redirects", "net.ipv4.conf.all.accept_source_route"):
        assert wanted.get(key) == "0", "%s = %s" % (key, wanted.get(key))
    if mail.run("systemd-detect-virt --container").rc == 0:
        return
    for key, value in wanted.items():
        live = mail.file("/proc/sys/" + key.replace(".", "/")).content_string.strip()
        assert live == value, "%s is %s, not %s" % (key, live, value)


# --- MS-IDS / MS-MALWARE ---------------------------------------------------------------------

@pytest.mark.requirement("MS-IDS", "MS-MALWARE")
def test_aide_database_and_daily_check(mail):
    assert mail.package("aide").is_installed, "AIDE is not installed"
    db = mail.file(STATE + "/aide/aide.db")
    assert db.exists and db.user == "root" and db.mode & 0o077 == 0, "no root-only AIDE database"
    timer = mail.service("trusted-mail-aide-check.timer")
    assert timer.is_enabled and timer.is_running, "the daily AIDE check is not scheduled"
    report = read_json(mail, STATE + "/aide-check.json")
    assert report["clean"] is True, "AIDE reports changes on the converged host: %s" % report["paths"][:20]


@pytest.mark.requirement("MS-IDS", "MS-MALWARE")
@pytest.mark.active
def test_aide_notices_a_new_program(mail):
    """Active: a program dropped into /usr/local/bin shows up in the daily check's report.

    Any probe leaves a trace AIDE rightly reports (the directory's times change), so the
    check starts only from a clean report, and afterwards takes the files as the new
    reference (``trusted-mail-aide accept``), which also proves that path works."""
    probe = "/usr/local/bin/tm-aide-probe"
    service = "trusted-mail-aide-check.service"
    wrapper = "/usr/local/libexec/trusted-mail/trusted-mail-aide"
    before = mail.run("systemctl start %s" % service)
    assert before.rc == 0 and read_json(mail, STATE + "/aide-check.json")["clean"] is True, \
        "AIDE already reports changes; not probing: %s" % read_json(mail, STATE + "/aide-check.json")
    try:
        mail.check_output("printf '#!/bin/sh\\necho intruder\\n' > %s && chmod 755 %s" % (probe, probe))
        run = mail.run("systemctl start %s" % service)
        found = read_json(mail, STATE + "/aide-check.json")
    finally:
        mail.run("rm -f %s" % probe)
    assert run.rc != 0, "the check unit did not fail on a change"
    assert found["clean"] is False and found["added"] >= 1 and probe in found["paths"], found
    mail.check_output("%s accept" % wrapper)
    again = mail.run("systemctl start %s" % service)
    clean = read_json(mail, STATE + "/aide-check.json")
    assert again.rc == 0 and clean["clean"] is True, clean
