"""End-to-end: mail submitted on the converged host leaves through the campus smarthost."""

import time

import pytest
from smtp_checks import wait_for


@pytest.mark.requirement("TM-05")
@pytest.mark.positive
def test_local_mail_reaches_the_smarthost_over_verified_tls(hosts):
    marker = "tm-e2e-%d" % time.time_ns()
    cmd = hosts["mail"].run(
        "printf 'Subject: e2e\\nX-TM-Test: %s\\n\\nhello\\n' | /usr/sbin/sendmail -f root someone@outside.example.org"
        % marker)
    assert cmd.rc == 0, cmd.stderr
    found = wait_for(lambda: hosts["campus"].run("grep -rl %s /var/tmp/sink" % marker).rc == 0, 30)
    assert found, "the message did not reach the smarthost"
    message = hosts["campus"].check_output("cat $(grep -rl %s /var/tmp/sink | head -n 1)" % marker)
    assert "using TLSv1.3" in message or "using TLSv1.2" in message, message


@pytest.mark.requirement("MS-LOGGING", "TM-06")
def test_mail_log_lines_reach_the_collector(hosts):
    """The Postfix lines of one message arrive at the central collector (RELP over TLS)."""
    marker = "tm-e2e-log-%d" % time.time_ns()
    cmd = hosts["mail"].run(
        "printf 'Subject: log\\n\\nhello\\n' | /usr/sbin/sendmail -f root %s@outside.example.org" % marker)
    assert cmd.rc == 0, cmd.stderr
    found = wait_for(lambda: hosts["campus"].run("grep -q %s /var/log/remote/received.log" % marker).rc == 0, 60)
    assert found, "no line about %s reached the collector" % marker
