"""TM-05: the server relays only for campus clients; every relay trick gets a 5xx."""

import time

import pytest
from smtp_checks import reply_to, swaks, tag, wait_for

SERVER_OUTSIDE = "198.51.100.10"   # the server's address on the outside network
SERVER_CAMPUS = "172.24.77.10"     # the server's address on the campus network
SERVER_NAME = "mail.tm-test.stanford.edu"
SINK_DIR = "/var/tmp/sink"

# Recipient forms that try to make the server relay to outside.example.org.
RELAY_TRICKS = {
    "plain": "victim@outside.example.org",
    "percent-hack": "victim%%outside.example.org@%s" % SERVER_NAME,
    "percent-hack-literal": "victim%%outside.example.org@[%s]" % SERVER_OUTSIDE,
    "bang-path": "outside.example.org!victim@%s" % SERVER_NAME,
    "source-route": "@%s:victim@outside.example.org" % SERVER_NAME,
    "quoted-local-part": '"victim@outside.example.org"@%s' % SERVER_NAME,
    "quoted-percent": '"victim%%outside.example.org"@%s' % SERVER_NAME,
    "multiple-at": "victim@outside.example.org@%s" % SERVER_NAME,
    "address-literal": "victim@[192.0.2.25]",
    "trailing-dot": "victim@outside.example.org.",
}


# Markers of the relay attempts made in this run, checked at the sink afterwards.
ATTEMPTS = []


def sink_has(sink, marker, timeout=30):
    """Wait for a message carrying ``marker`` at the campus smarthost's sink."""
    return wait_for(lambda: sink.run("grep -rlF %s %s" % (marker, SINK_DIR)).rc == 0, timeout)


@pytest.mark.requirement("TM-05")
@pytest.mark.parametrize("form", sorted(RELAY_TRICKS))
def test_outside_client_cannot_relay(hosts, form):
    marker = tag()
    ATTEMPTS.append(marker)
    rc, transcript = swaks(hosts["outside"], "--server", SERVER_OUTSIDE, "--from", "spammer@example.net",
                           "--to", RELAY_TRICKS[form], "--header", "X-TM-Test: %s" % marker)
    code = reply_to(transcript, "RCPT TO")
    assert code is not None and 500 <= code < 600, "RCPT for %s got %s, not 5xx:\n%s" % (form, code, transcript)
    assert not hosts["mail"].run("postqueue -j | grep -F %s" % marker).stdout


@pytest.mark.requirement("TM-05")
def test_relay_attempts_never_reach_the_next_hop(hosts):
    """Runs after the trick checks: none of their messages left the server."""
    assert ATTEMPTS, "run with the relay-trick checks"
    time.sleep(3)
    pattern = "|".join(ATTEMPTS)
    arrived = hosts["campus"].run("grep -rlE '%s' %s" % (pattern, SINK_DIR)).stdout.split()
    queued = hosts["mail"].run("postcat -hq ALL 2>/dev/null | grep -E '%s'" % pattern).stdout
    assert not arrived, "relayed messages arrived at the next hop: %s" % arrived
    assert not queued, "relay attempts are queued: %s" % queued


@pytest.mark.requirement("TM-05")
@pytest.mark.positive
def test_campus_client_relays_to_next_hop(hosts):
    marker = tag()
    rc, transcript = swaks(hosts["campus"], "--server", SERVER_CAMPUS, "--from", "app@campus.stanford.edu",
                           "--to", "someone@outside.example.org", "--header", "X-TM-Test: %s" % marker)
    assert rc == 0, transcript
    assert sink_has(hosts["campus"], marker), "campus mail did not reach the next hop"


@pytest.mark.requirement("TM-05")
@pytest.mark.positive
def test_local_submission_is_delivered(hosts):
    marker = tag()
    cmd = hosts["mail"].run(
        "printf 'Subject: local %s\\nX-TM-Test: %s\\n\\nhello\\n' | /usr/sbin/sendmail -f root someone@outside.example.org"
        % (marker, marker))
    assert cmd.rc == 0, cmd.stderr
    assert sink_has(hosts["campus"], marker)
