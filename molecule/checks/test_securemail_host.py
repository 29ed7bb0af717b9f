"""TM-09 checks that read the mail host itself: the Secure: route, the TLS policy and the
content gate are configured and running.

Shared by the securemail scenario and the audit (scripts/tm-audit). What the server is
meant to do (high-risk mode, relay, gate) is read from /etc/trusted-mail/securemail.json,
which the role writes; a server without it has no TM-09 protection. The mail-flow checks
(marked mail at the relay, High Risk Data refused, encrypted mail passing, fail closed)
are in molecule/securemail/tests.
"""

import json

import pytest
from audit_expect import expected

RECORD = "/etc/trusted-mail/securemail.json"
GATE = "unix:/securemail/gate.sock"
NEVER_CLEAR = ("encrypt", "verify", "secure", "dane-only", "fingerprint")


@pytest.fixture(scope="module")
def mail(hosts):
    return hosts["mail"]


# What a server without the record is held to: everything on (its checks then say what is
# missing, and test_what_the_server_enforces_is_recorded fails).
EXPECTED = {"high_risk": True, "route": True, "relay": "(unknown: no record)", "gate": True}


@pytest.fixture(scope="module")
def record(mail):
    record = mail.file(RECORD)
    return json.loads(record.content_string) if record.exists else dict(EXPECTED, missing=True)


@pytest.mark.requirement("TM-09")
def test_what_the_server_enforces_is_recorded(record):
    assert not record.get("missing"), "no %s: the securemail role has not been applied" % RECORD
    assert record["route"] and record["relay"], "the Secure: route is off or has no relay: %s" % record


def postconf(mail, *names):
    """The values of main.cf parameters (one call each: an empty value is an empty line)."""
    return dict((name, mail.check_output("postconf -h %s" % name)) for name in names)


@pytest.mark.requirement("TM-09")
def test_gate_runs_hardened(mail, record):
    if not record["gate"]:
        pytest.skip("the content gate is turned off on this server (securemail_gate_enabled)")
    service = mail.service("trusted-mail-securemail")
    assert service.is_running and service.is_enabled, "the gate is not running and enabled"
    assert mail.socket("unix:///var/spool/postfix/securemail/gate.sock").is_listening
    shown = dict(line.split("=", 1) for line in mail.check_output(
        "systemctl show trusted-mail-securemail -p User -p NoNewPrivileges -p ProtectSystem -p PrivateNetwork "
        "-p CapabilityBoundingSet -p RestrictAddressFamilies").splitlines())
    assert shown["User"] not in ("", "root"), shown
    assert shown["NoNewPrivileges"] == "yes" and shown["ProtectSystem"] == "strict", shown
    assert shown["PrivateNetwork"] == "yes" and shown["CapabilityBoundingSet"] == "", shown


@pytest.mark.requirement("TM-09")
def test_gate_sees_all_mail_after_the_scanner_and_fails_closed(mail, record):
    if not record["gate"]:
        pytest.skip("the content gate is turned off on this server (securemail_gate_enabled)")
    conf = postconf(mail, "smtpd_milters", "non_smtpd_milters", "milter_default_action")
    for key in ("smtpd_milters", "non_smtpd_milters"):
        milters = [m.strip() for m in conf[key].replace(",", " ").split()]
        assert GATE in milters, "%s does not hold the gate: %s" % (key, conf[key])
        scanner = [i for i, m in enumerate(milters) if "clamav" in m]
        assert not scanner or scanner[0] < milters.index(GATE), "%s: the gate runs before the virus scan" % key
    assert conf["milter_default_action"] == "tempfail", "a failed milter lets mail through: %s" % conf


@pytest.mark.requirement("TM-09")
def test_marked_mail_is_routed_to_the_secure_relay_only(mail, record):
    # TM-09 requires the route (only the content gate is optional). The record says which
    # relay to expect, never whether to look: root can edit it, so a server that turned the
    # route off fails here, and only a waiver in the inventory (tm-audit) can excuse it.
    assert record["route"], "the Secure: route is turned off on this server (securemail_route_enabled: false)"
    # An audit (tm-audit) knows the relay from the inventory: the route must lead there, not
    # only to the relay the host's record names.
    relay = expected("securemail_relay", record["relay"])
    assert record["relay"] == relay, "the record names the relay %s, the inventory %s" % (record["relay"], relay)
    conf = postconf(mail, "header_checks", "milter_header_checks")
    target = "FILTER securerelay:%s" % relay
    for table, probe in ((conf["header_checks"], "Subject: Re: SECURE: payroll"),
                         (conf["milter_header_checks"], "X-Trusted-Mail-Route: secure")):
        assert table, "no table for %s" % probe
        answer = mail.run("postmap -q %s %s" % (repr(probe), table)).stdout.strip()
        assert answer == target, "%s in %s gives %r, not %r" % (probe, table, answer, target)
    for probe in ("Subject: Secure payroll", "Subject: secure : payroll"):
        assert mail.run("postmap -q %s %s" % (repr(probe), conf["header_checks"])).stdout.strip() == "", probe
    level = mail.check_output("postconf -P securerelay/unix/smtp_tls_security_level")
    assert level.endswith(("= secure", "= verify")), "the relay transport's TLS level: %r" % level
    policy = mail.check_output("postconf -P securerelay/unix/smtp_tls_policy_maps")
    assert policy.rstrip().endswith("="), "a policy map can lower the relay's TLS level: %r" % policy


@pytest.mark.requirement("TM-09")
def test_outbound_tls_is_never_optional_where_required(mail, record):
    conf = postconf(mail, "smtp_tls_policy_maps", "smtp_tls_security_level", "smtpd_tls_security_level")
    tables = [t.strip() for t in conf["smtp_tls_policy_maps"].replace(",", " ").split() if t.strip()]
    assert any("securemail" in t for t in tables), "the Secure Email TLS policy is not used: %s" % tables
    for table in tables:
        # Outside high-risk mode only the Secure Email table must never allow clear text:
        # the relayhost's own policy (mta_relayhost_tls_level) may then be opportunistic.
        if not record["high_risk"] and "securemail" not in table:
            continue
        source = table.split(":", 1)[1]
        for line in mail.file(source).content_string.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                assert line.split()[1] in NEVER_CLEAR, "%s allows clear text: %s" % (source, line)
    if record["high_risk"]:
        assert conf["smtpd_tls_security_level"] == "encrypt", "port 25 accepts mail without TLS: %s" % conf
        assert conf["smtp_tls_security_level"] in NEVER_CLEAR, "outbound mail may go in clear: %s" % conf
