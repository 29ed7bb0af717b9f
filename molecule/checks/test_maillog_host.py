"""TM-06 / MS-LOGGING checks that need only the mail host itself.

They read the deployed configuration through the tools that use it (logrotate's own
parser, systemd-analyze, rsyslogd -N1, postconf) and try access as the auditor group
would, so they serve molecule's verify of any scenario that converges the maillog role
and a later audit of a live host. Nothing here changes the host beyond one marker line
in the mail log.

The auditor group is ``mailaudit`` unless TM_AUDITOR_GROUP names another.
"""

import os
import re
import shlex
import time
import uuid

import pytest
from audit_expect import expected

AUDITOR_GROUP = os.environ.get("TM_AUDITOR_GROUP") or expected("maillog_auditor_group", "mailaudit")
MIN_DAYS = 366
# Shortest length of each logrotate period in days (a month can be 28 days).
# Logs of the other mail components (ClamAV) that must be kept like the mail log when present.
COMPONENT_LOGS = ("/var/log/clamav/clamav.log", "/var/log/clamav/clamav-milter.log", "/var/log/clamav/freshclam.log")
PERIOD_DAYS = {"hourly": 1 / 24, "daily": 1, "weekly": 7, "monthly": 28, "yearly": 365}


@pytest.fixture(scope="module")
def mail(hosts):
    return hosts["mail"]


def mail_log(host):
    """Postfix's own log file, or the usual syslog file when Postfix logs through syslog."""
    return host.run("postconf -h maillog_file").stdout.strip() or "/var/log/mail.log"


# Every logrotate file with its name before it: RS (\036) name US (\037) text.
LOGROTATE_FILES = ("for f in /etc/logrotate.conf $(find /etc/logrotate.d -maxdepth 1 -type f); do"
                   " printf '\\036%s\\037' \"$f\"; cat -- \"$f\"; done")


@pytest.fixture(scope="module")
def logrotate(mail):
    """logrotate's files (name -> text without comments) and its own reading of them (logrotate -d), read once."""
    files = {}
    for record in mail.check_output(LOGROTATE_FILES).split("\036")[1:]:
        name, _, text = record.partition("\037")
        files[name] = re.sub(r"#.*", "", text)
    return files, mail.run("logrotate -d /etc/logrotate.conf 2>&1").stdout


@pytest.fixture(scope="module")
def component_logs(mail):
    """Those of COMPONENT_LOGS that exist on the host (one command)."""
    paths = " ".join(shlex.quote(path) for path in COMPONENT_LOGS)
    return mail.run("for f in %s; do [ ! -e \"$f\" ] || echo \"$f\"; done" % paths).stdout.split()


def claims(files, path):
    """logrotate configuration files that name PATH outside comments: [(name, text)]."""
    token = re.compile(r"(?<![^\s\"'])%s(?=[\s\"'{]|$)" % re.escape(path))
    return [(name, text) for name, text in files.items() if token.search(text)]


def retention_days(debug, path):
    """Days logrotate keeps PATH, from its own parser (logrotate -d), or an explanation."""
    blocks = re.split(r"(?m)^rotating pattern: ", debug)[1:]
    for block in blocks:
        if re.search(r"(?m)^considering log %s$" % re.escape(path), block):
            head = block.split("\nempty log files")[0]
            count = re.search(r"\((\d+) rotations\)", head)
            period = re.search(r"after (\d+) days|\b(hourly|daily|weekly|monthly|yearly)\b", head)
            if not count or not period:
                return 0, "no time-based rotation found for %s in: %s" % (path, head[-200:])
            days = int(period.group(1)) if period.group(1) else PERIOD_DAYS[period.group(2)]
            return int(count.group(1)) * days, head.replace("\n", " ")[-160:]
    return 0, "logrotate does not handle %s at all" % path


@pytest.mark.requirement("TM-06")
def test_postfix_writes_its_own_log_file(mail):
    path = mail.run("postconf -h maillog_file").stdout.strip()
    assert path, "maillog_file is empty: Postfix logs through syslog only, and Debian 12 has no syslog daemon by default"
    service = mail.run("postconf -M postlog/unix-dgram").stdout
    assert "postlogd" in service, "no postlog service in master.cf: %r" % service
    mark = "tm-maillog-check-" + uuid.uuid4().hex
    assert mail.run("postlog -t tm-check -p info %s", mark).rc == 0
    for _ in range(20):
        if mail.run("grep -qF -- %s %s", mark, path).rc == 0:
            break
        time.sleep(0.5)
    else:
        pytest.fail("a line logged through Postfix (postlog) did not reach %s" % path)


def assert_kept_a_year(logrotate, path):
    """PATH has exactly one logrotate claim, which logrotate honours, keeping it at least a year, compressed, dated."""
    files, debug = logrotate
    owners = claims(files, path)
    assert len(owners) == 1, "%s is named by %d logrotate files (%s): logrotate skips all but one claim" % (
        path, len(owners), ", ".join(name for name, _ in owners) or "none")
    errors = [line for line in debug.splitlines() if line.startswith("error:") and (path in line or "duplicate" in line)]
    assert not errors, errors
    days, detail = retention_days(debug, path)
    name, text = owners[0]
    maxage = [int(value) for value in re.findall(r"(?m)^\s*maxage\s+(\d+)", text)]
    if maxage:
        days = min([days] + maxage)
    assert days >= MIN_DAYS, "%s is kept %s days (%s; %s), not at least %d" % (path, days, name, detail, MIN_DAYS)
    directives = set(re.findall(r"(?m)^\s*(compress|nocompress|dateext|nodateext)\b", text))
    assert "compress" in directives and "nocompress" not in directives, "%s: rotated copies of %s are not compressed" % (name, path)
    assert "dateext" in directives and "nodateext" not in directives, "%s: rotated copies of %s have no dated names" % (name, path)


@pytest.mark.requirement("TM-06")
def test_mail_log_kept_at_least_a_year(mail, logrotate):
    assert_kept_a_year(logrotate, mail_log(mail))


@pytest.mark.requirement("TM-06")
def test_mail_component_logs_kept_like_the_mail_log(logrotate, component_logs):
    if not component_logs:
        pytest.skip("none of %s on this host" % ", ".join(COMPONENT_LOGS))
    for path in component_logs:
        assert_kept_a_year(logrotate, path)


@pytest.mark.requirement("TM-06")
def test_logs_rotated_every_day(mail):
    timer = mail.service("logrotate.timer")
    assert timer.is_enabled and timer.is_running, "logrotate.timer is not enabled and active: nothing rotates the logs"


@pytest.mark.requirement("TM-06")
@pytest.mark.debian_default
def test_journal_persistent_and_limited_by_size_only(mail):
    text = mail.check_output("systemd-analyze cat-config systemd/journald.conf")
    conf = {}
    for line in text.splitlines():
        match = re.match(r"^\s*([A-Za-z]+)\s*=\s*(.*?)\s*$", line)
        if match:
            conf[match.group(1)] = match.group(2)  # later files win, as in journald
    storage = conf.get("Storage", "auto")
    assert storage == "persistent" or (storage == "auto" and mail.file("/var/log/journal").is_directory), \
        "journald Storage=%s: the journal is lost at reboot" % storage
    machine = mail.file("/etc/machine-id").content_string.strip()
    assert mail.file("/var/log/journal/%s/system.journal" % machine).exists, "the journal is not written to /var/log/journal"
    retention = conf.get("MaxRetentionSec", "0")
    assert retention in ("0", ""), "MaxRetentionSec=%s drops records by age" % retention
    max_use = conf.get("SystemMaxUse", "")
    units = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
    match = re.fullmatch(r"(\d+)([KMGT]?)", max_use)
    assert not max_use or (match and int(match.group(1)) * units.get(match.group(2), 1) >= 2**30), \
        "SystemMaxUse=%s: the journal can hold less than 1 GiB" % max_use
    burst = int(conf.get("RateLimitBurst", "10000"))
    assert conf.get("RateLimitIntervalSec", "30s") in ("0", "0s") or burst >= 10000, \
        "RateLimitBurst=%d drops a busy service's records" % burst


@pytest.mark.requirement("TM-06")
def test_auditor_group_reads_logs_and_cannot_change_them(mail, component_logs):
    group = mail.group(AUDITOR_GROUP)
    assert group.exists, "no auditor group %s" % AUDITOR_GROUP
    path = mail_log(mail)
    rotated = sorted(mail.run("ls -1 %s-* %s.[0-9]* 2>/dev/null", path, path).stdout.split())
    files = [path] + rotated[:3] + rotated[-3:] + component_logs
    as_auditor = "setpriv --reuid=65534 --regid=%d --clear-groups --" % group.gid
    as_nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups --"
    for name in dict.fromkeys(files):
        reader = "zcat" if name.endswith(".gz") else "cat"
        quoted = shlex.quote(name)
        got = mail.run("%s %s %s >/dev/null" % (as_auditor, reader, quoted))
        assert got.rc == 0, "the auditor group cannot read %s: %s" % (name, got.stderr.strip())
        wrote = mail.run("%s sh -c 'exec 3>>\"$1\"' - %s" % (as_auditor, quoted))
        assert wrote.rc != 0, "the auditor group can write %s" % name
        assert mail.run("%s %s %s >/dev/null" % (as_nobody, reader, quoted)).rc != 0, "anyone can read %s" % name


@pytest.mark.requirement("MS-LOGGING")
def test_logs_forwarded_over_tls_with_a_disk_queue(mail):
    assert mail.service("rsyslog").is_running, "no rsyslog running: nothing forwards the logs"
    check = mail.run("rsyslogd -N1")
    assert check.rc == 0, check.stderr[-400:]
    text = mail.check_output("cat /etc/rsyslog.conf /etc/rsyslog.d/*.conf 2>/dev/null || true")
    text = re.sub(r"(?m)#.*$", "", text)
    actions = re.findall(r"(?ms)action\s*\((.*?)\)[ \t]*$", text)
    forwards = [a for a in actions if re.search(r"type\s*=\s*\"om(fwd|relp)\"", a, re.I)]
    assert forwards, "no forwarding action (omfwd, omrelp) in the rsyslog configuration"

    def setting(action, name):
        match = re.search(r"\b%s\s*=\s*\"([^\"]*)\"" % re.escape(name), action, re.I)
        return match.group(1).lower() if match else ""

    def verified_tls(action):
        if re.search(r"type\s*=\s*\"omrelp\"", action, re.I):
            return setting(action, "tls") == "on" and setting(action, "tls.authMode") == "name" and setting(action, "tls.caCert")
        return (setting(action, "StreamDriverMode") == "1" and setting(action, "StreamDriverAuthMode") == "x509/name"
                and setting(action, "protocol") == "tcp")

    good = [a for a in forwards
            if verified_tls(a) and setting(a, "queue.filename")
            and setting(a, "queue.type") in ("linkedlist", "fixedarray", "disk")
            and setting(a, "queue.saveOnShutdown") == "on" and setting(a, "action.resumeRetryCount") == "-1"]
    assert good, "no forwarding over verified TLS with a disk-assisted, saved, endlessly retried queue: %s" % forwards
    assert re.search(r"imjournal", text), "the journal (system logs) is not read"
    assert re.search(r"imfile.*?File\s*=\s*\"%s\"" % re.escape(mail_log(mail)), text, re.S), \
        "Postfix's own log file is not forwarded"
