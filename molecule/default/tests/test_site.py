"""End-to-end: mail submitted on the converged host leaves through the campus smarthost."""

import os
import re
import shlex
import subprocess
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
    if not found:
        # Where the line stopped: Postfix's own log, rsyslog's state file for that log and
        # its last words on the mail host, and the collector's.
        seen = {
            "mail.log": hosts["mail"].run("grep -c %s /var/log/mail.log" % marker).stdout.strip(),
            "imfile state": hosts["mail"].run("ls -l --time-style=+%T /var/spool/rsyslog 2>&1").stdout[-600:],
            "rsyslog (mail)": hosts["mail"].run("journalctl -u rsyslog --no-pager -n 15 -o short-precise").stdout[-1500:],
            "rsyslog (collector)": hosts["campus"].run("journalctl -u rsyslog --no-pager -n 15 -o short-precise").stdout[-1500:],
            "collector tail": hosts["campus"].run("tail -n 3 /var/log/remote/received.log").stdout[-800:],
        }
        pytest.fail("no line about %s reached the collector within 60 s; %s" % (marker, seen))


SEND_FROM_CAMPUS = r"""
import smtplib, sys
msg = "From: a@tm-test.stanford.edu\r\nTo: b@outside.example.org\r\nSubject: payroll\r\n\r\n%s\r\n" % sys.argv[1]
with smtplib.SMTP("172.24.77.20", 25, timeout=60) as smtp:
    smtp.starttls()
    try:
        smtp.sendmail("a@tm-test.stanford.edu", ["b@outside.example.org"], msg)
        print("250 accepted")
    except smtplib.SMTPResponseException as err:
        print(err.smtp_code, err.smtp_error.decode())
"""


@pytest.mark.requirement("TM-09", "TM-04")
def test_high_risk_data_in_clear_refused_after_the_virus_scan(hosts):
    """Through the whole milter chain (ClamAV, then the content gate): an SSN in clear is refused."""
    out = hosts["campus"].run("python3 -c %s %s" % (shlex.quote(SEND_FROM_CAMPUS), shlex.quote("SSN 512-34-5678")))
    assert out.rc == 0, out.stderr
    assert out.stdout.startswith("5") and "5.7.1" in out.stdout and "Secure:" in out.stdout, \
        "High Risk Data in clear was not refused with 5.7.1 and the Secure: advice: %s" % out.stdout
    milters = hosts["mail"].check_output("postconf -h smtpd_milters")
    assert milters.index("clamav") < milters.index("securemail"), "the gate does not come after the virus scan: %s" % milters


@pytest.mark.requirement("TM-04", "TM-09")
def test_a_run_narrowed_by_tags_keeps_every_roles_postfix_settings(hosts):
    """site.yml --tags mta,maillog (check mode) would change nothing on the converged host.

    The Postfix settings are layers the roles register in their pre-flights; a run narrowed
    to some roles must still know the others', or it takes the anti-virus milter (TM-04)
    or the Secure Email TLS policy map (TM-09) out of main.cf.
    """
    before = hosts["mail"].check_output("postconf -h smtpd_milters smtp_tls_policy_maps")
    run = subprocess.run(["ansible-playbook", "-i", os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"]), "--check", "--diff",
                          "--tags", "mta,maillog", os.path.join(os.environ["MOLECULE_SCENARIO_DIRECTORY"], "converge.yml")],
                         capture_output=True, text=True, check=False)
    recap = re.search(r"^tm-default-mail\s+:.*$", run.stdout, re.M)
    assert run.returncode == 0 and recap, "the narrowed run failed: %s %s" % (run.stdout[-1500:], run.stderr[-500:])
    changes = re.findall(r"^[-+](?!--|\+\+)\S.*$", run.stdout, re.M)
    assert " changed=0 " in recap.group(0), "a run with --tags mta,maillog would change: %s (%s)" % (changes[:10], recap.group(0))
    assert hosts["mail"].check_output("postconf -h smtpd_milters smtp_tls_policy_maps") == before
