"""MS-LOGGING: the system and mail logs reach the collector over TLS, and a collector
outage loses nothing.

The collector (tm-maillog-collector) is rsyslog with a TLS-only listener; it keeps
every record from the mail host in /var/log/remote/received.log. Lines are counted by
a marker unique to each run: each must arrive. A record sent into a connection the
collector had just closed is sent again after the reconnection (rsyslog's
ResendLastMSGOnReconnect), so a few may arrive twice; more than MAX_DUPLICATES would
point at a resending loop and fail the check.
"""

import time
import uuid

import pytest

RECEIVED = "/var/log/remote/received.log"
MAX_DUPLICATES = 3
SPOOL = "/var/spool/rsyslog"


@pytest.fixture(scope="module")
def mail(hosts):
    return hosts["mail"]


@pytest.fixture(scope="module")
def collector(hosts):
    return hosts["collector"]


def send(mail, mark, count, kinds=("system", "mail")):
    """COUNT journal lines (logger) and COUNT Postfix log lines (postlog) carrying MARK."""
    commands = {"system": "logger -t tm-forward \"%s system $i\"" % mark,
                "mail": "postlog -t tm-forward -p info \"%s mail $i\"" % mark}
    mail.check_output("for i in $(seq 1 %d); do %s; done" % (count, "; ".join(commands[k] for k in kinds)))


def received(collector, mark):
    got = collector.run("grep -aoE '%s (system|mail) [0-9]+' %s 2>/dev/null" % (mark, RECEIVED)).stdout.split("\n")
    return [line for line in got if line]


def wait_for(collector, mark, expected, timeout):
    deadline = time.time() + timeout
    lines = received(collector, mark)
    while len(set(lines)) < expected and time.time() < deadline:
        time.sleep(2)
        lines = received(collector, mark)
    return lines


def verdict(lines, mark, count, kinds=("system", "mail")):
    """An explanation of what was lost or repeated too often, or "" when all arrived."""
    want = {"%s %s %d" % (mark, kind, i) for kind in kinds for i in range(1, count + 1)}
    lost = sorted(want - set(lines))
    extra = len(lines) - len(set(lines))
    unknown = sorted(set(lines) - want)
    if lost or unknown or extra > MAX_DUPLICATES:
        return "%d of %d lines lost (%s), %d duplicates, %d unexpected" % (
            len(lost), len(want), ", ".join(lost[:6]), extra, len(unknown))
    return ""


@pytest.mark.requirement("MS-LOGGING")
def test_logs_reach_the_collector(mail, collector):
    mark = "tm-fwd-" + uuid.uuid4().hex[:12]
    send(mail, mark, 25)
    lines = wait_for(collector, mark, 50, 45)
    problem = verdict(lines, mark, 25)
    assert not problem, problem


@pytest.mark.requirement("MS-LOGGING")
def test_collector_outage_loses_nothing(mail, collector):
    mark = "tm-out-" + uuid.uuid4().hex[:12]
    # syslog.socket would start rsyslog again at the collector's next local record.
    collector.check_output("systemctl stop syslog.socket rsyslog.service")
    try:
        time.sleep(2)
        send(mail, mark, 40)
        time.sleep(5)
        assert received(collector, mark) == [], "lines arrived while the collector was stopped"
    finally:
        collector.check_output("systemctl start rsyslog.service")
    lines = wait_for(collector, mark, 80, 120)
    problem = verdict(lines, mark, 40)
    assert not problem, "after the outage: " + problem


@pytest.mark.requirement("MS-LOGGING")
def test_queue_waits_on_disk_across_a_forwarder_restart(mail, collector):
    """Records waiting for the collector survive a restart of the forwarder: they are on disk.

    Journal records only: Postfix-file records read by imfile just before a restart can be
    lost with rsyslog 8.2302 (seen here, 2-3 of 40; an open point in docs/logs.md).
    The counted records are sent only once the forwarder has noticed that the collector is
    gone. Before that, RELP writes records into the dead connection (the first write after
    the collector closed it still succeeds); they wait in librelp's window of unacknowledged
    records, in memory, are sent again after a reconnection, and are lost if rsyslog restarts
    first (docs/logs.md). Probes take that place here; every counted record must arrive.
    """
    mark = "tm-disk-" + uuid.uuid4().hex[:12]
    collector.check_output("systemctl stop syslog.socket rsyslog.service")
    try:
        since = mail.check_output("date +%s")
        deadline = time.time() + 60
        probe = 0
        while True:
            probe += 1
            mail.check_output("logger -t tm-forward %s-probe-%d" % (mark, probe))
            if mail.run("journalctl -u rsyslog --since @%s | grep -qE 'suspend|connection broken|could not connect'" % since).rc == 0:
                break
            assert time.time() < deadline, "the forwarder did not notice in 60 s (%d probes) that the collector was gone" % probe
            time.sleep(2)
        send(mail, mark, 40, kinds=("system",))
        time.sleep(5)
        mail.check_output("systemctl restart rsyslog")
        queued = mail.run("ls %s/tm-forward.* 2>/dev/null" % SPOOL).stdout.split()
        assert queued, "nothing was saved in %s while the collector was away" % SPOOL
        assert received(collector, mark) == [], "lines arrived while the collector was stopped"
    finally:
        collector.check_output("systemctl start rsyslog.service")
    lines = wait_for(collector, mark, 40, 120)
    problem = verdict(lines, mark, 40, kinds=("system",))
    assert not problem, "after the restart: " + problem
