"""TM-04 checks that read the mail host itself (its configuration and services).

Shared by the scenarios that converge the anti-virus role and by the demo's summary.
The mail-flow checks (EICAR held, clean mail delivered, fail closed) are in
molecule/antivirus/tests.
"""

import re

import pytest


@pytest.fixture(scope="module")
def mail(hosts):
    return hosts["mail"]


@pytest.mark.requirement("TM-04")
@pytest.mark.positive
def test_scanner_runs(mail):
    for unit in ("clamav-daemon", "clamav-milter"):
        assert mail.service(unit).is_running and mail.service(unit).is_enabled, unit
    assert mail.socket("unix:///var/spool/postfix/clamav/clamav-milter.ctl").is_listening


@pytest.mark.requirement("TM-04")
def test_scan_limits_cover_every_accepted_byte(mail):
    postfix = int(mail.check_output("postconf -h message_size_limit"))

    def conf(path, key):
        value = mail.check_output("awk '$1 == \"%s\" {print $2}' %s" % (key, path)).strip()
        assert value, "%s not set in %s" % (key, path)
        units = {"K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}
        return int(value[:-1]) * units[value[-1].upper()] if value[-1].upper() in units else int(value)

    milter = conf("/etc/clamav/clamav-milter.conf", "MaxFileSize")
    stream = conf("/etc/clamav/clamd.conf", "StreamMaxLength")
    assert postfix < milter <= stream, "message %d, milter %d, clamd stream %d" % (postfix, milter, stream)
    clamd = mail.file("/etc/clamav/clamd.conf").content_string
    for line in ("AlertExceedsMax true", "AlertEncrypted true"):
        assert line in clamd.splitlines(), line


@pytest.mark.requirement("TM-04")
def test_every_path_is_scanned_and_fails_closed(mail):
    conf = dict(zip(("smtpd", "non_smtpd", "default"),
                    mail.check_output("postconf -h smtpd_milters non_smtpd_milters milter_default_action").splitlines()))
    assert "clamav-milter" in conf["smtpd"] and "clamav-milter" in conf["non_smtpd"], conf
    assert conf["default"] == "tempfail", conf
    # A master.cf service's -o overrides win over main.cf for the mail that service takes
    # (submission, smtps, pickup for local mail): none may drop the scanner, fail open or
    # turn milters off. -Px shows every override with $names expanded.
    bypass = []
    for line in mail.check_output("postconf -Px").splitlines():
        match = re.match(r"^(\S+/\S+)/(\S+) =\s?(.*)$", line)
        if not match:
            continue
        service, name, value = match.groups()
        if ((name in ("smtpd_milters", "non_smtpd_milters") and "clamav-milter" not in value)
                or (name == "milter_default_action" and value.strip() != "tempfail")
                or (name == "receive_override_options" and "no_milters" in value)):
            bypass.append("%s: %s = %s" % (service, name, value))
    assert not bypass, "master.cf services that bypass the scanner: %s" % "; ".join(bypass)
    milter = mail.file("/etc/clamav/clamav-milter.conf").content_string.splitlines()
    assert "OnInfected Quarantine" in milter and "OnFail Defer" in milter
    exempt = [line for line in milter if line.split(" ")[0] in ("LocalNet", "Whitelist", "SkipAuthenticated")]
    assert not exempt, "scanning exemptions: %s" % exempt


@pytest.mark.requirement("TM-04")
def test_signatures_updated_daily_and_watched(mail):
    assert mail.service("clamav-freshclam").is_enabled
    checks = mail.check_output("awk '$1 == \"Checks\" {print $2}' /etc/clamav/freshclam.conf")
    assert checks and int(checks) >= 1, "freshclam checks %r times a day" % checks
    timer = mail.service("trusted-mail-av-freshness.timer")
    assert timer.is_enabled and timer.is_running, "no signature freshness monitor"
