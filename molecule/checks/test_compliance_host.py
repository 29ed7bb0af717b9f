"""TM-02 / TM-03 / MS-INVENTORY / MS-TRAINING / MS-PHYSICAL checks that need only the
host, and the audit's active probes.

The compliance role publishes its record (contacts, campus networks, mail addresses,
waivers, the inventory facts and the process facts) at
/etc/trusted-mail/compliance-record.json; these checks read it, and the host's real
addresses, name and OS, through the same testinfra host the molecule scenarios and the
audit (scripts/tm-audit) use. Waivers are applied by the audit's report, not here: a
check says what it sees. Ages (inventory review, training) are judged on
TM_AUDIT_TODAY (YYYY-MM-DD, set by ``tm-audit --today``) or else today.

Checks marked ``active`` send traffic (an EICAR canary through the host's own Postfix,
relay and AUTH probes over the network); conftest.py runs them only with
TM_AUDIT_ACTIVE=1 (``tm-audit --active``).
"""

import importlib.util
import datetime
import ipaddress
import json
import os
import time
import uuid

import pytest
import testinfra
from audit_expect import expected
from smtp_checks import session

RECORD = os.environ.get("TM_COMPLIANCE_RECORD") or expected("compliance_record_path", "/etc/trusted-mail/compliance-record.json")
_SPEC = importlib.util.spec_from_file_location(
    "tm_compliance", os.path.join(os.path.dirname(__file__), "..", "..", "plugins", "module_utils", "compliance.py"))
compliance = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(compliance)
TODAY = compliance.parse_date(os.environ["TM_AUDIT_TODAY"]) if os.environ.get("TM_AUDIT_TODAY") else datetime.date.today()
# The standard EICAR test file, kept as hex so that no scanner trips over this source.
EICAR = bytes.fromhex(
    "58354f2150254041505b345c505a58353428505e2937434329377d2445494341522d5354414e4441"
    "52442d414e544956495255532d544553542d46494c452124482b482a").decode()


@pytest.fixture(scope="module")
def mail(hosts):
    return hosts["mail"]


def record_of(host):
    """The published compliance record, or fail naming what is missing."""
    published = host.file(RECORD)
    assert published.exists, "no compliance record at %s (the compliance role has not published one)" % RECORD
    try:
        return json.loads(published.content_string)
    except ValueError as exc:
        raise AssertionError("%s is not JSON: %s" % (RECORD, exc)) from exc


def global_addresses(host):
    """Every global address of the host, with its prefix length: {address: prefixlen}."""
    links = json.loads(host.check_output("ip -j address show scope global"))
    return dict((a["local"], a.get("prefixlen")) for link in links for a in link.get("addr_info", [])
                if a.get("scope") == "global")


def route_sources(host):
    """The source addresses of the host's default routes: the addresses it is known by and sends mail from."""
    sources = []
    for family, probe in (("-4", "8.8.8.8"), ("-6", "2001:4860:4860::8888")):
        route = host.run("ip -j %s route get %s" % (family, probe))  # a routing lookup, nothing is sent
        if route.rc == 0 and route.stdout.strip():
            sources += [r["prefsrc"] for r in json.loads(route.stdout) if r.get("prefsrc")]
    return sources


def in_any(address, networks):
    ip = ipaddress.ip_address(address)
    return any(ip.version == n.version and ip in n for n in networks)


@pytest.mark.requirement("TM-02")
def test_mail_addresses_lie_in_campus_networks(mail, record_property):
    """The server's default-route source addresses and its recorded mail addresses lie in the campus networks."""
    record = record_of(mail)
    networks = record.get("campus_networks") or []
    assert networks, "the record lists no campus networks"
    parsed = [ipaddress.ip_network(n.replace("[", "").replace("]", ""), strict=False) for n in networks]
    too_wide = [str(n) for n in parsed if n.prefixlen == 0]
    assert not too_wide, "the recorded campus networks include everything: %s" % too_wide
    present = global_addresses(mail)
    recorded = record.get("mail_addresses") or []
    sources = route_sources(mail)
    record_property("evidence", "sends from %s; recorded mail addresses %s; all addresses %s; %d campus networks recorded" % (
        ", ".join(sources) or "nothing (no default route)", ", ".join(recorded) or "none", ", ".join(present), len(networks)))
    assert sources or recorded, "the host has no default route and no recorded mail address"
    absent = [a for a in recorded if a not in present]
    assert not absent, "the record lists mail address(es) the host does not have: %s" % ", ".join(absent)
    outside = [a for a in sources + recorded if not in_any(a, parsed)]
    assert not outside, "mail-facing address(es) outside the campus networks: %s" % ", ".join(sorted(set(outside)))


@pytest.mark.requirement("TM-03")
def test_contact_record_is_published_for_auditors(mail, record_property):
    """The record is root's, readable by auditors, writable by nobody else."""
    published = mail.file(RECORD)
    assert published.exists, "no compliance record at %s (the compliance role has not published one)" % RECORD
    mode = published.mode
    record_property("evidence", "%s %s:%s %s" % (RECORD, published.user, published.group, oct(mode)))
    assert published.user == "root", "%s belongs to %s, not root" % (RECORD, published.user)
    assert mode & 0o022 == 0, "%s is writable by others than root (%s)" % (RECORD, oct(mode))
    assert mode & 0o004 or (mode & 0o040 and published.group != "root"), \
        "%s is not readable by auditors (%s, group %s)" % (RECORD, oct(mode), published.group)


@pytest.mark.requirement("TM-03")
def test_contacts_are_well_formed_with_a_24x7_mobile(mail, record_property):
    """The published contacts are complete and at least one answers 24/7 on a mobile."""
    contacts = record_of(mail).get("contacts")
    problems = compliance.contact_problems(contacts)
    if isinstance(contacts, list):
        record_property("evidence", "; ".join(
            "%s (%s%s)" % (c.get("name"), c.get("role"), ", 24/7" if c.get("available_24x7") is True else "")
            for c in contacts if isinstance(c, dict)))
    assert not problems, "; ".join(problems)


# --- process facts (MS-INVENTORY, MS-TRAINING, MS-PHYSICAL) ----------------------


def host_fqdn(host):
    """The host's FQDN as Ansible sees it (Python's socket.getfqdn), else hostname -f."""
    name = host.run("python3 -c 'import socket; print(socket.getfqdn())' 2>/dev/null || hostname -f 2>/dev/null || hostname")
    return name.stdout.strip()


def host_os(host):
    """ID, VERSION_ID and VERSION_CODENAME from /etc/os-release."""
    release = {}
    for line in host.file("/etc/os-release").content_string.splitlines():
        key, _, value = line.partition("=")
        release[key.strip()] = value.strip().strip('"')
    return release


def usable(addresses):
    """Global addresses only (no loopback or link-local), normalised."""
    out = set()
    for address in addresses:
        try:
            ip = ipaddress.ip_address(str(address).split("%")[0])
        except ValueError:
            out.add(str(address))
            continue
        if not (ip.is_loopback or ip.is_link_local):
            out.add(str(ip))
    return out


@pytest.mark.requirement("MS-INVENTORY")
def test_inventory_record_reviewed_within_a_quarter(mail, record_property):
    """The record's last inventory review is at most 92 days old (or its recorded limit), with a risk level the baseline covers."""
    inventory = record_of(mail).get("inventory")
    problems = compliance.review_problems(inventory, TODAY)
    if isinstance(inventory, dict):
        record_property("evidence", "reviewed %s (%s days ago, limit %s); risk level %s" % (
            inventory.get("review_date"), compliance.age_days(inventory.get("review_date"), TODAY),
            inventory.get("review_max_days"), inventory.get("risk_level")))
    assert not problems, "; ".join(problems)


@pytest.mark.requirement("MS-INVENTORY")
def test_inventory_facts_match_the_host(mail, record_property):
    """The recorded FQDN, addresses and OS are what the host really is (the record is not out of date)."""
    inventory = record_of(mail).get("inventory")
    assert isinstance(inventory, dict), "the record has no inventory facts (FQDN, addresses, OS)"
    fqdn, release, present = host_fqdn(mail), host_os(mail), usable(global_addresses(mail))
    recorded_os = inventory.get("os") if isinstance(inventory.get("os"), dict) else {}
    record_property("evidence", "recorded %s, %s, %s %s; host %s, %s, %s %s" % (
        inventory.get("fqdn"), ", ".join(inventory.get("addresses") or []), recorded_os.get("name"), recorded_os.get("version"),
        fqdn, ", ".join(sorted(present)), release.get("ID"), release.get("VERSION_ID")))
    wrong = []
    if str(inventory.get("fqdn") or "").lower().rstrip(".") != fqdn.lower().rstrip("."):
        wrong.append("FQDN recorded %r, the host is %r" % (inventory.get("fqdn"), fqdn))
    recorded = usable(inventory.get("addresses") or [])
    if recorded != present:
        wrong.append("addresses recorded [%s], the host has [%s]" % (", ".join(sorted(recorded)), ", ".join(sorted(present))))
    if (str(recorded_os.get("name", "")).lower() != release.get("ID", "").lower()
            or str(recorded_os.get("version", "")) != release.get("VERSION_ID", "")):
        wrong.append("OS recorded %s %s, the host runs %s %s" % (recorded_os.get("name"), recorded_os.get("version"),
                                                               release.get("ID"), release.get("VERSION_ID")))
    assert not wrong, "the inventory facts are out of date: " + "; ".join(wrong)


@pytest.mark.requirement("MS-TRAINING")
def test_administrators_trained_within_a_year(mail, record_property):
    """Every recorded administrator (or team) had sysadmin training within the last 365 days."""
    training = record_of(mail).get("training")
    states = compliance.training_states(training, TODAY)
    record_property("evidence", "; ".join("%s trained %s (%s days ago)" % (s["name"], s["completed"], s["age_days"]) for s in states)
                    or "no training recorded")
    problems = compliance.training_problems(training, TODAY)
    assert not problems, "; ".join(problems)


@pytest.mark.requirement("MS-PHYSICAL")
def test_hardware_is_in_a_data_center(mail, record_property):
    """The recorded hardware location is a data center or an approved cloud provider, not an office."""
    location = record_of(mail).get("location")
    if isinstance(location, dict):
        record_property("evidence", "%s: %s" % (location.get("kind"), location.get("name")))
    problems = compliance.location_problems(location)
    assert not problems, "; ".join(problems)


# --- active probes (tm-audit --active) --------------------------------------------


def mail_address(host, client=None):
    """The address a probe from ``client`` should use: one on a network the client is on, else the mail-facing one.

    A real off-campus client reaches the server's public campus address; on a test bench
    where the client shares a network with a second interface of the server, that
    interface is the one it reaches without address translation.
    """
    present = global_addresses(host)
    if client is not None:
        for address, prefix in global_addresses(client).items():
            net = ipaddress.ip_interface("%s/%s" % (address, prefix)).network
            for candidate in present:
                if in_any(candidate, [net]):
                    return candidate
    sources = route_sources(host)
    assert sources or present, "the host has no global address to probe"
    return (sources or sorted(present))[0]


@pytest.mark.requirement("TM-04")
@pytest.mark.active
def test_eicar_canary_is_held(mail, record_property):
    """An EICAR canary submitted on the host lands in the hold queue and is removed again."""
    assert mail.exists("sendmail") and mail.exists("postsuper"), "no Postfix sendmail on the host"
    canary = "tm-canary-%s" % uuid.uuid4().hex
    message = ("Subject: trusted_mail audit canary %s\nX-TM-Canary: %s\nMIME-Version: 1.0\n"
               "Content-Type: text/plain\n\n%s\n" % (canary, canary, EICAR))
    sent = mail.run("printf '%%s' %s | /usr/sbin/sendmail -f root root" % _quote(message))
    assert sent.rc == 0, "sendmail refused the canary: %s" % sent.stderr
    where = ""
    for _ in range(60):
        where = mail.run("grep -rl %s /var/spool/postfix/hold /var/spool/postfix/active /var/spool/postfix/incoming "
                         "/var/spool/postfix/deferred /var/spool/postfix/maildrop 2>/dev/null" % canary).stdout.split()
        if any("/hold/" in w for w in where):
            break
        time.sleep(1)
    ids = [os.path.basename(w) for w in where]
    for queue_id in ids:  # leave nothing behind, wherever it is
        mail.run("postsuper -d %s" % queue_id)
    record_property("evidence", "canary %s found in %s" % (canary, where or "no queue"))
    assert any("/hold/" in w for w in where), "the EICAR canary was not quarantined within 60 s (queues: %s)" % where


def _quote(text):
    return "'" + text.replace("'", "'\\''") + "'"


@pytest.mark.requirement("TM-05")
@pytest.mark.active
def test_relay_refused_from_an_outside_host(hosts, mail, record_property):
    """From an off-campus host, mail to an outside domain is refused at RCPT."""
    outside = hosts["outside"]
    target = mail_address(mail, outside)
    probe = outside.run(
        "python3 -c %s" % _quote(
            "import smtplib,sys\n"
            "s=smtplib.SMTP(sys.argv[1],25,timeout=15); s.ehlo('probe.example.net')\n"
            "print(s.mail('audit@example.net')[0]); print(s.rcpt('audit-relay-probe@example.org')[0]); s.quit()"
        ) + " " + target)
    record_property("evidence", "from %s to %s:25: %s" % (outside.check_output("hostname"), target, probe.stdout.split()))
    assert probe.rc == 0, "no SMTP session from the outside host to %s: %s" % (target, probe.stderr.strip()[-300:])
    codes = probe.stdout.split()
    assert len(codes) == 2 and codes[1].startswith("5"), "relay to an outside domain was not refused (MAIL, RCPT): %s" % codes


@pytest.mark.requirement("TM-07")
@pytest.mark.active
def test_no_auth_in_clear_over_the_network(hosts, mail, record_property):
    """Over the network, without TLS, AUTH is neither offered nor accepted on 25 and 587."""
    try:
        client = hosts["outside"]
    except pytest.skip.Exception:
        client = testinfra.get_host("local://")
    target = mail_address(mail, client)
    seen = {}
    for port in (25, 587):
        if port == 587 and not mail.socket("tcp://0.0.0.0:587").is_listening and not mail.socket("tcp://:::587").is_listening:
            continue
        answer = session(client, target, port, auth=("audit-probe", "not-a-password"))
        assert "error" not in answer, "no SMTP session with %s:%d: %s" % (target, port, answer["error"])
        offered = [line for line in answer["ehlo"].splitlines() if line.upper().startswith("AUTH")]
        seen[port] = (offered, answer.get("auth"))
        assert not offered, "AUTH offered before TLS on %s:%d: %s" % (target, port, offered)
        assert answer.get("auth") and answer["auth"][0] >= 500, "AUTH in clear not refused on %d: %s" % (port, answer.get("auth"))
    record_property("evidence", "clear-text EHLO/AUTH on %s: %s" % (target, seen))
