"""TM-09: High Risk Data through a real Postfix.

Messages go from the campus client (tm-hrd-sample makes them, with real openssl and gpg
encryption) to the server over SMTP with STARTTLS, or are submitted on the server with
sendmail. Two smarthosts show where each one went: the ordinary next hop (campus) and
the Secure Email relay (secure); each keeps every message it received in its sink.
"""

import base64
import json
import re
import time

import pytest
from scenario_playbook import run_converge, summary
from smtp_checks import session, tag, wait_for

SERVER = "172.24.77.110"
SINK = "/var/tmp/sink"
SSN = "512-34-5678"
GATE_LOG = "journalctl -q --no-pager -o cat -t trusted-mail-securemail"


def send(campus, kind, mark, tls=True):
    """Send a sample from the campus client; (exit code, the server's replies)."""
    cmd = campus.run("tm-hrd-sample %s %s | tm-smtp-send %s %s 2>&1" % (kind, mark, SERVER, "" if tls else "--no-tls"))
    return cmd.rc, cmd.stdout


def send_local(mail, subject, body, mark):
    message = "From: root\nTo: hr@outside.example.org\nSubject: %s\nX-TM-Test: %s\n\n%s\n" % (subject, mark, body)
    encoded = base64.b64encode(message.encode()).decode()
    cmd = mail.run("echo %s | base64 -d | /usr/sbin/sendmail -f root hr@outside.example.org" % encoded)
    assert cmd.rc == 0, cmd.stderr


def arrived(host, mark):
    return host.run("grep -rlE '^X-TM-Test: %s.?$' %s" % (mark, SINK)).rc == 0


def sink_file(host, mark):
    return host.check_output("grep -rlE '^X-TM-Test: %s.?$' %s | head -1" % (mark, SINK))


def queued(mail, mark):
    """The message's queue entry on the server (postqueue -j), or None."""
    ids = mail.run("grep -rlF 'X-TM-Test: %s' /var/spool/postfix/deferred /var/spool/postfix/active "
                   "/var/spool/postfix/incoming /var/spool/postfix/hold 2>/dev/null" % mark).stdout.split()
    if not ids:
        return None
    names = [path.rsplit("/", 1)[-1] for path in ids]
    for line in mail.check_output("postqueue -j").splitlines():
        entry = json.loads(line)
        if entry["queue_id"] in names:
            return entry
    return {"queue_id": names[0], "recipients": []}


def deferred(mail, mark):
    """Why the message waits in the queue, or "" when it is not waiting."""
    entry = queued(mail, mark) or {}
    return "; ".join(r.get("delay_reason", "") for r in entry.get("recipients", []) if r.get("delay_reason"))


def where(hosts, mark, timeout=60):
    """Wait until the message shows up at a sink; return the sinks it reached."""
    wait_for(lambda: arrived(hosts["secure"], mark) or arrived(hosts["campus"], mark), timeout)
    time.sleep(2)
    return {name for name in ("secure", "campus") if arrived(hosts[name], mark)}


# ---- the Secure: route -------------------------------------------------------------------
@pytest.mark.requirement("TM-09")
@pytest.mark.parametrize("kind", ["marked", "marked-encoded"])
def test_marked_mail_goes_only_to_the_secure_relay_over_tls(hosts, kind):
    """Subject "Secure: ..." (also RFC 2047-encoded): delivered by the Secure Email relay
    only, and the relay received it over TLS from the server."""
    mark = tag()
    rc, transcript = send(hosts["campus"], kind, mark)
    assert rc == 0, transcript[-1500:]
    reached = where(hosts, mark)
    assert reached == {"secure"}, "marked mail reached %s" % (sorted(reached) or "no sink")
    received = hosts["secure"].file(sink_file(hosts["secure"], mark)).content_string
    hop = re.search(r"Received: from mail\.tm-test\.stanford\.edu.*?\n(?=\S)", received, re.S)
    assert hop and "using TLS" in hop.group(0), "the relay did not get it over TLS:\n%s" % received[:1500]


@pytest.mark.requirement("TM-09")
def test_marked_local_mail_goes_to_the_secure_relay(hosts):
    mark = tag()
    send_local(hosts["mail"], "secure: payroll run", "SSN %s" % SSN, mark)
    reached = where(hosts, mark)
    assert reached == {"secure"}, "marked local mail reached %s" % (sorted(reached) or "no sink")


# The relay checks change the Secure Email relay's (or the next hop's) TLS, and put it back.
@pytest.mark.requirement("TM-09")
@pytest.mark.parametrize("fault", ["none", "rogue", "wrongname"])
def test_marked_mail_waits_when_the_relay_is_not_verified(hosts, fault):
    """The relay offers no TLS, a certificate from an untrusted CA, or one for another
    name: the marked message stays in the queue, goes nowhere else, and leaves once the
    relay presents its own certificate again."""
    mail, secure = hosts["mail"], hosts["secure"]
    mark = tag()
    secure.check_output("tm-relay-tls %s" % fault)
    try:
        rc, transcript = send(hosts["campus"], "marked", mark)
        assert rc == 0, transcript[-1500:]
        wait_for(lambda: deferred(mail, mark) or arrived(secure, mark) or arrived(hosts["campus"], mark), 60)
        assert not arrived(secure, mark) and not arrived(hosts["campus"], mark), "the message left without verified TLS"
        reason = deferred(mail, mark)
        assert reason, "the message is not waiting in the queue (queue: %s)" % queued(mail, mark)
        assert "TLS" in reason or "certificate" in reason or "verif" in reason, reason
    finally:
        secure.check_output("tm-relay-tls secure")
    mail.run("postqueue -f")
    assert wait_for(lambda: arrived(secure, mark), 90), "the waiting message was not delivered once the relay was fixed"


@pytest.mark.requirement("TM-09")
def test_mail_waits_when_the_next_hop_offers_no_tls(hosts):
    """High-risk mode: ordinary mail is never sent in clear either."""
    mail, campus = hosts["mail"], hosts["campus"]
    mark = tag()
    campus.check_output("postconf -e smtpd_tls_security_level=none && systemctl restart postfix")
    try:
        rc, transcript = send(campus, "clean", mark)
        assert rc == 0, transcript[-1500:]
        wait_for(lambda: deferred(mail, mark) or arrived(campus, mark), 60)
        assert not arrived(campus, mark), "the message went out in clear"
        assert deferred(mail, mark), "the message is not waiting in the queue"
    finally:
        campus.check_output("postconf -e smtpd_tls_security_level=may && systemctl restart postfix")
    mail.run("postqueue -f")
    assert wait_for(lambda: arrived(campus, mark), 90)


@pytest.mark.requirement("TM-09")
def test_port_25_requires_starttls(hosts):
    """High-risk mode: a client that does not start TLS cannot send on port 25."""
    mark = tag()
    rc, transcript = send(hosts["campus"], "clean", mark, tls=False)
    assert rc != 0 and re.search(r"<\*\* 530 5\.7\.0", transcript), transcript[-1500:]
    answers = session(hosts["campus"], SERVER, starttls=True)
    assert answers.get("starttls") == 220, answers


# ---- the content gate --------------------------------------------------------------------
@pytest.mark.requirement("TM-09")
@pytest.mark.parametrize("kind", ["ssn", "card", "csv", "mrn"])
def test_unmarked_high_risk_data_in_clear_does_not_leave(hosts, kind):
    mark = tag()
    rc, transcript = send(hosts["campus"], kind, mark)
    assert rc != 0 and re.search(r"<\*\* 550 5\.7\.1 .*Secure:", transcript), \
        "not rejected with 5.7.1 and the Secure: advice:\n" + transcript[-1500:]
    reached = where(hosts, mark, timeout=10)
    assert not reached, "High Risk Data in clear reached %s" % sorted(reached)


@pytest.mark.requirement("TM-09")
def test_unmarked_high_risk_local_mail_does_not_leave(hosts):
    mark = tag()
    send_local(hosts["mail"], "payroll", "SSN %s" % SSN, mark)
    time.sleep(5)
    assert not where(hosts, mark, timeout=10), "local High Risk Data in clear left the server"


@pytest.mark.requirement("TM-09")
@pytest.mark.positive
@pytest.mark.parametrize("kind", ["smime", "smime-x", "pgp-mime", "pgp-inline"])
def test_encrypted_high_risk_data_passes(hosts, kind):
    """The same SSN, encrypted (S/MIME in both media type spellings, PGP/MIME, inline
    PGP), goes to the ordinary next hop. (Positive: an unprotected server passes it too.)"""
    mark = tag()
    rc, transcript = send(hosts["campus"], kind, mark)
    assert rc == 0, transcript[-1500:]
    assert where(hosts, mark) == {"campus"}


@pytest.mark.requirement("TM-09")
@pytest.mark.positive
@pytest.mark.parametrize("kind", ["clean", "guard"])
def test_ordinary_mail_and_look_alike_numbers_pass(hosts, kind):
    """False-positive guard through Postfix: invalid SSN ranges, numbers failing Luhn,
    order and phone numbers are not flagged (the full table is in tests/unit/securemail)."""
    mark = tag()
    rc, transcript = send(hosts["campus"], kind, mark)
    assert rc == 0, "%s mail was refused:\n%s" % (kind, transcript[-1500:])
    assert where(hosts, mark) == {"campus"}


@pytest.mark.requirement("TM-09")
def test_every_decision_is_logged_with_queue_id_and_kind_only(hosts):
    mail = hosts["mail"]
    since = mail.check_output("date '+%Y-%m-%d %H:%M:%S'")
    time.sleep(1)
    for kind in ("ssn", "marked", "smime"):
        send(hosts["campus"], kind, tag())
    log = ""
    for _ in range(20):
        log = mail.run("%s --since '%s'" % (GATE_LOG, since)).stdout
        if len(re.findall(r"queue_id=[0-9A-F]{6,} decision=", log)) >= 3:
            break
        time.sleep(1)
    for decision, finding in (("reject", "ssn:1"), ("route-marked", "ssn:1"), ("pass-encrypted", "none")):
        assert re.search(r"queue_id=[0-9A-F]{6,} decision=%s .*findings=%s" % (decision, finding), log), \
            "no %s decision with its queue ID and kind:\n%s" % (decision, log[-2000:])
    whole = mail.run(GATE_LOG).stdout
    for data in (SSN, SSN.replace("-", ""), "4111 1111", "4111111111111111", "12345678"):
        assert data not in whole, "the gate's log holds matched data"


# The fail-closed check stops the gate; it runs last and always starts it again.
@pytest.mark.requirement("TM-09")
def test_nothing_passes_while_the_gate_is_down(hosts):
    mail, campus = hosts["mail"], hosts["campus"]
    smtp, local = tag(), tag()
    mail.run("systemctl stop trusted-mail-securemail")
    try:
        rc, transcript = send(campus, "clean", smtp)
        send_local(mail, "hello", "nothing special", local)
        time.sleep(5)
        assert rc != 0 and re.search(r"<\*\* 4\d\d", transcript), "SMTP mail was not refused with 4xx:\n" + transcript[-1500:]
        assert not arrived(campus, smtp) and not arrived(campus, local), "mail passed the stopped gate"
        assert mail.run("grep -rlF %s /var/spool/postfix/maildrop" % local).rc == 0, "local mail is not waiting"
    finally:
        mail.run("systemctl start trusted-mail-securemail")
    assert wait_for(lambda: mail.run("test -S /var/spool/postfix/securemail/gate.sock").rc == 0, 30)
    mail.run("postqueue -f; postkick public pickup W")
    assert wait_for(lambda: arrived(campus, local), 120), "waiting local mail was not delivered after the restart"


# ---- switching the route off -------------------------------------------------------------
def route_state(mail):
    """The route as Postfix has it: the header checks and the relay transport."""
    return {"header_checks": mail.run("postconf -h header_checks").stdout.strip(),
            "milter_header_checks": mail.run("postconf -h milter_header_checks").stdout.strip(),
            "transport": mail.run("postconf -M securerelay/unix 2>/dev/null").stdout.strip()}


# Converges the host twice (route off, then as the scenario has it): it runs last.
@pytest.mark.requirement("TM-09")
def test_turning_the_route_off_strands_no_marked_mail(hosts, tmp_path, record_property):
    """securemail_route_enabled: false takes the route out of Postfix, the header checks
    with the relay transport: marked mail then leaves by the ordinary next hop instead of
    waiting for a transport that no longer exists. Converging with the route on again puts
    it back. (TM-09 still requires the route: the audit fails a server without it.)"""
    mail = hosts["mail"]
    before = route_state(mail)
    assert before["header_checks"] and before["transport"], "the route is not in place to switch off: %s" % before
    mark = tag()
    try:
        rc, result = run_converge(tmp_path, "-e", '{"securemail_route_enabled": false}')
        assert rc == 0, "converge with the route off failed: %s" % summary(result)
        off = route_state(mail)
        send_local(mail, "Secure: payroll run", "nothing special", mark)
        reached = where(hosts, mark)
        waiting = deferred(mail, mark)
    finally:
        rc, result = run_converge(tmp_path)
    back = route_state(mail)
    record_property("evidence", "route off: %s; marked mail reached %s%s; route on again: %s" % (
        off, sorted(reached) or "no sink", ", waiting: " + waiting if waiting else "", back))
    assert not off["header_checks"] and not off["milter_header_checks"], "header checks left in main.cf: %s" % off
    assert not off["transport"], "the relay transport is still in master.cf: %s" % off["transport"]
    assert reached == {"campus"}, "marked mail with the route off reached %s (%s)" % (sorted(reached) or "no sink", waiting)
    assert rc == 0 and back == before, "the route is not back after converging with it on: %s" % back
