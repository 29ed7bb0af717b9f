"""TM-04: every outgoing message is scanned; infected ones are held (quarantined), never
delivered or dropped; nothing passes unscanned when the scanner fails; signatures are
updated daily and their age is watched.

Messages go from the campus client to the server over SMTP, or are submitted on the
server with sendmail, and the checks look at both ends: the server's hold queue and the
campus smarthost's sink, which keeps every message that left the server.
"""

import json
import os
import subprocess
import time
import uuid

import pytest
from smtp_checks import wait_for

SERVER = "172.24.77.30"
SINK = "/var/tmp/sink"
HOLD = "/var/spool/postfix/hold"
RECIPIENT = "someone@outside.example.org"


def marker():
    return "tm-av-" + uuid.uuid4().hex


def send_smtp(client, kind, mark, size=0):
    """Send a sample from the campus client; return (swaks exit code, transcript)."""
    cmd = client.run(
        "tm-sample %s %s %d > /var/tmp/%s.eml && swaks --timeout 120 --server %s --from app@campus.stanford.edu "
        "--to %s --data @/var/tmp/%s.eml --suppress-data 2>&1; rc=$?; rm -f /var/tmp/%s.eml; exit $rc"
        % (kind, mark, size, mark, SERVER, RECIPIENT, mark, mark))
    return cmd.rc, cmd.stdout


def send_local(mail, kind, mark):
    cmd = mail.run("tm-sample %s %s | /usr/sbin/sendmail -f root %s" % (kind, mark, RECIPIENT))
    assert cmd.rc == 0, cmd.stderr


def held(mail, mark):
    return mail.run("grep -rlF %s %s" % (mark, HOLD)).rc == 0


def delivered(sink, mark):
    # The message itself (its own header), not the administrators' notice that names it.
    return sink.run("grep -rlE '^X-TM-Test: %s.?$' %s" % (mark, SINK)).rc == 0


def assert_quarantined(hosts, mark):
    mail, campus = hosts["mail"], hosts["campus"]
    wait_for(lambda: held(mail, mark) or delivered(campus, mark), 60)
    time.sleep(2)
    assert not delivered(campus, mark), "an infected message reached the next hop"
    assert held(mail, mark), "not in the hold queue"


@pytest.fixture(scope="module")
def size_limit(hosts):
    return int(hosts["mail"].check_output("postconf -h message_size_limit"))


@pytest.mark.requirement("TM-04")
@pytest.mark.parametrize("kind", ["plain", "qp", "zip", "nested", "encrypted"])
def test_infected_smtp_mail_is_quarantined(hosts, kind):
    mark = marker()
    rc, transcript = send_smtp(hosts["campus"], kind, mark)
    assert rc == 0, "the server did not accept the message for quarantine:\n" + transcript[-1500:]
    assert_quarantined(hosts, mark)


@pytest.mark.requirement("TM-04")
def test_virus_at_the_end_of_the_largest_message_is_quarantined(hosts, size_limit):
    mark = marker()
    rc, transcript = send_smtp(hosts["campus"], "large", mark, size_limit - 256 * 1024)
    assert rc == 0, transcript[-1500:]
    assert_quarantined(hosts, mark)


@pytest.mark.requirement("TM-04")
def test_infected_local_mail_is_quarantined(hosts):
    mark = marker()
    send_local(hosts["mail"], "plain", mark)
    assert_quarantined(hosts, mark)


@pytest.mark.requirement("TM-04")
@pytest.mark.positive
def test_clean_mail_is_delivered(hosts):
    smtp, local = marker(), marker()
    rc, transcript = send_smtp(hosts["campus"], "clean", smtp)
    assert rc == 0, transcript[-1500:]
    send_local(hosts["mail"], "clean", local)
    assert wait_for(lambda: delivered(hosts["campus"], smtp) and delivered(hosts["campus"], local), 60)
    assert not held(hosts["mail"], smtp) and not held(hosts["mail"], local)


@pytest.mark.requirement("TM-04")
def test_quarantine_is_logged_and_reported_to_admins(hosts):
    mark = marker()
    rc, transcript = send_smtp(hosts["campus"], "plain", mark)
    assert rc == 0, transcript[-1500:]
    assert_quarantined(hosts, mark)
    queue_id = os.path.basename(hosts["mail"].check_output("grep -rlF %s %s" % (mark, HOLD)).split()[0])
    assert wait_for(lambda: hosts["mail"].run(
        "journalctl -q --no-pager -t trusted-mail-av | grep -F 'quarantined queue_id=%s'" % queue_id).rc == 0, 30)
    assert wait_for(lambda: hosts["campus"].run(
        "grep -rlF 'quarantined message %s' %s" % (queue_id, SINK)).rc == 0, 60), "no notice reached the administrators"


@pytest.mark.requirement("TM-04")
def test_freshness_monitor_raises_its_alarm(hosts):
    """The freshness monitor tells stale from fresh signatures (on a probe directory)."""
    mail = hosts["mail"]
    monitor = "/usr/local/libexec/trusted-mail/clamav-freshness"
    probe = "/var/tmp/tm-freshness"
    mail.run("rm -rf %s; mkdir -p %s; touch -d '30 hours ago' %s/daily.cld %s/main.cvd" % ((probe,) * 4))
    stale = mail.run("%s --dir %s --max-age-hours 24 --state %s/state.json" % (monitor, probe, probe))
    assert stale.rc == 1 and "ALARM" in stale.stdout, stale.stdout + stale.stderr
    mail.run("touch %s/daily.cld" % probe)
    fresh = mail.run("%s --dir %s --max-age-hours 24 --state %s/state.json" % (monitor, probe, probe))
    assert fresh.rc == 0 and "fresh" in fresh.stdout, fresh.stdout + fresh.stderr
    # This test host has only the EICAR test signature: the real monitor must say so.
    mail.run("systemctl start trusted-mail-av-freshness.service")
    state = json.loads(mail.file("/var/lib/trusted-mail/av-freshness.json").content_string)
    assert state["fresh"] is False and "no official signature" in state["detail"], state


@pytest.mark.requirement("TM-04")
def test_quarantine_playbook_lists_shows_releases_and_deletes(hosts):
    keep, drop = marker(), marker()
    for mark in (keep, drop):
        rc, transcript = send_smtp(hosts["campus"], "plain", mark)
        assert rc == 0, transcript[-1500:]
        assert_quarantined(hosts, mark)

    def queue_id(mark):
        return os.path.basename(hosts["mail"].check_output("grep -rlF %s %s" % (mark, HOLD)).split()[0])

    def playbook(*extra):
        project = os.environ["MOLECULE_PROJECT_DIRECTORY"]
        run = subprocess.run(["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"],
                              os.path.join(project, "playbooks", "quarantine.yml")] + list(extra),
                             capture_output=True, text=True, cwd=project, check=False)
        return run.returncode, run.stdout + run.stderr

    rc, out = playbook()
    assert rc == 0 and queue_id(keep) in out and queue_id(drop) in out, out[-2000:]
    rc, out = playbook("-e", "quarantine_action=show", "-e", json.dumps({"quarantine_ids": [queue_id(keep)]}))
    assert rc == 0 and "X-Virus-Status: Infected" in out, out[-2000:]
    rc, out = playbook("-e", "quarantine_action=release", "-e", json.dumps({"quarantine_ids": ["ALL"]}))
    assert rc != 0, "a release of everything was accepted"
    drop_id, keep_id = queue_id(drop), queue_id(keep)
    rc, out = playbook("-e", "quarantine_action=delete", "-e", json.dumps({"quarantine_ids": [drop_id]}))
    assert rc == 0 and not held(hosts["mail"], drop), out[-2000:]
    rc, out = playbook("-e", "quarantine_action=release", "-e", json.dumps({"quarantine_ids": [keep_id]}))
    assert rc == 0, out[-2000:]
    assert wait_for(lambda: delivered(hosts["campus"], keep), 60), "the released message was not delivered"
    assert not delivered(hosts["campus"], drop)


# The fail-closed checks stop parts of the scanner; they run last and always restart them.
@pytest.mark.requirement("TM-04")
@pytest.mark.parametrize("unit", ["clamav-daemon", "clamav-milter"])
def test_nothing_passes_unscanned_while_the_scanner_is_down(hosts, unit):
    mail, campus = hosts["mail"], hosts["campus"]
    smtp, local = marker(), marker()
    mail.run("systemctl stop %s" % unit)
    try:
        rc, transcript = send_smtp(campus, "clean", smtp)
        send_local(mail, "clean", local)
        time.sleep(5)
        assert rc != 0 and "<** 4" in transcript, "SMTP mail was not refused with 4xx:\n" + transcript[-1500:]
        assert not delivered(campus, smtp) and not delivered(campus, local), "mail passed unscanned"
        assert mail.run("grep -rlF %s /var/spool/postfix/maildrop" % local).rc == 0, "local mail is not waiting"
    finally:
        mail.run("systemctl start %s" % unit)
    assert wait_for(lambda: mail.run("test -S /var/spool/postfix/clamav/clamav-milter.ctl").rc == 0, 60)
    mail.run("postqueue -f; postkick public pickup W")
    assert wait_for(lambda: delivered(campus, local), 120), "waiting local mail was not delivered after the restart"


@pytest.mark.requirement("TM-04")
def test_a_stalled_scanner_makes_mail_wait(hosts):
    """clamd frozen (SIGSTOP) accepts connections but never answers. After
    antivirus_scan_timeout (30 s in this scenario) the milter gives up: SMTP clients get a
    4xx and local mail waits; nothing is delivered unscanned. Thawed, clamd scans it."""
    mail, campus = hosts["mail"], hosts["campus"]
    smtp, local = marker(), marker()
    mail.run("systemctl kill --signal=SIGSTOP clamav-daemon")
    try:
        send_local(mail, "clean", local)
        start = time.time()
        rc, transcript = send_smtp(campus, "clean", smtp)
        waited = time.time() - start
        assert rc != 0 and "<** 4" in transcript, (
            "SMTP mail was not refused with 4xx after %.0f s:\n%s" % (waited, transcript[-1500:]))
        time.sleep(5)
        assert not delivered(campus, smtp) and not delivered(campus, local), "mail passed unscanned"
    finally:
        mail.run("systemctl kill --signal=SIGCONT clamav-daemon")
    mail.run("postqueue -f; postkick public pickup W")
    assert wait_for(lambda: delivered(campus, local), 120), "waiting local mail was not delivered after clamd resumed"


@pytest.mark.requirement("TM-04")
def test_without_a_signature_database_clamd_stays_down_and_mail_waits(hosts):
    """Debian's clamd unit needs the official databases; the test drop-in lifts that.
    Without it (as in production with no database) clamd must not run and mail must wait."""
    mail, campus = hosts["mail"], hosts["campus"]
    dropin = "/etc/systemd/system/clamav-daemon.service.d/tm-test.conf"
    mark = marker()
    mail.run("mv %s /root/tm-test.conf.off && systemctl daemon-reload && systemctl restart clamav-daemon" % dropin)
    try:
        assert not mail.service("clamav-daemon").is_running, "clamd runs without a signature database"
        rc, transcript = send_smtp(campus, "clean", mark)
        assert rc != 0 and "<** 4" in transcript, "mail was not refused with 4xx:\n" + transcript[-1500:]
        assert not delivered(campus, mark)
    finally:
        mail.run("mv /root/tm-test.conf.off %s; systemctl daemon-reload; systemctl restart clamav-daemon" % dropin)
        wait_for(lambda: mail.run("test -S /run/clamav/clamd.ctl").rc == 0, 60)
