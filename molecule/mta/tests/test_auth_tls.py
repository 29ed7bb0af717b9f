"""TM-07: no password ever crosses a clear connection; TLS 1.2 or newer only."""

import os

import pytest
from smtp_checks import session

SERVER = "198.51.100.10"  # reached from the outside client: the case that matters
USER = "tmtest"


@pytest.fixture(scope="module")
def password():
    # Generated at run time by prepare.yml in the scenario's ephemeral directory.
    path = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "pki", "sasl.password")
    with open(path, encoding="ascii") as handle:
        return handle.read().strip()


def advertises_auth(ehlo):
    return any(line.upper().startswith("AUTH") for line in ehlo.splitlines())


@pytest.mark.requirement("TM-07")
@pytest.mark.parametrize("port", [25, 587])
def test_auth_not_advertised_before_starttls(hosts, port):
    answer = session(hosts["outside"], SERVER, port)
    assert "error" not in answer, answer
    assert not advertises_auth(answer["ehlo"]), "AUTH offered on a clear connection to port %d" % port


@pytest.mark.requirement("TM-07")
@pytest.mark.parametrize("port", [25, 587])
def test_auth_refused_on_clear_connection(hosts, port, password):
    answer = session(hosts["outside"], SERVER, port, auth=(USER, password))
    assert "error" not in answer, answer
    code = answer["auth"][0]
    assert code >= 500, "AUTH with valid credentials on a clear connection to port %d got %s" % (port, answer["auth"])


@pytest.mark.requirement("TM-07")
def test_submission_requires_starttls(hosts):
    answer = session(hosts["outside"], SERVER, 587)
    assert "STARTTLS" in answer["ehlo"].upper()
    cmd = hosts["outside"].run(
        "swaks --timeout 10 --server %s --port 587 --from a@example.net --to b@outside.example.org --quit-after RCPT 2>&1"
        % SERVER)
    assert "530" in cmd.stdout, "submission accepted a transaction without TLS:\n" + cmd.stdout


@pytest.mark.requirement("TM-07")
@pytest.mark.positive
@pytest.mark.parametrize("port", [25, 587])
def test_auth_after_starttls(hosts, port, password):
    answer = session(hosts["outside"], SERVER, port, starttls=True, auth=(USER, password))
    assert advertises_auth(answer["ehlo_tls"]), answer
    assert answer["auth"][0] == 235, answer


@pytest.mark.requirement("TM-07")
@pytest.mark.positive
def test_auth_on_implicit_tls(hosts, password):
    answer = session(hosts["outside"], SERVER, 465, implicit_tls=True, auth=(USER, password))
    assert answer.get("auth", [0])[0] == 235, answer


@pytest.mark.requirement("TM-07")
@pytest.mark.positive
def test_bad_password_refused(hosts, password):
    answer = session(hosts["outside"], SERVER, 587, starttls=True, auth=(USER, password + "x"))
    assert answer["auth"][0] == 535, answer


@pytest.mark.requirement("TM-07")
@pytest.mark.parametrize("version", ["tls1", "tls1_1"])
def test_old_tls_refused(hosts, version):
    cmd = hosts["outside"].run(
        "echo QUIT | timeout 10 openssl s_client -starttls smtp -connect %s:25 -%s -cipher 'DEFAULT:@SECLEVEL=0' 2>&1"
        % (SERVER, version))
    assert "Cipher is (NONE)" in cmd.stdout or "handshake failure" in cmd.stdout or "no protocols available" in cmd.stdout \
        or "alert protocol version" in cmd.stdout, "%s handshake succeeded:\n%s" % (version, cmd.stdout[-800:])


@pytest.mark.requirement("TM-07")
@pytest.mark.positive
def test_tls12_accepted(hosts):
    cmd = hosts["outside"].run(
        "echo QUIT | timeout 10 openssl s_client -starttls smtp -connect %s:25 -tls1_2 2>&1" % SERVER)
    assert "Protocol  : TLSv1.2" in cmd.stdout or "TLSv1.2" in cmd.stdout, cmd.stdout[-800:]


@pytest.mark.requirement("TM-07")
def test_relayhost_gets_verified_tls(hosts):
    """Mail to the campus smarthost goes over TLS with its certificate verified."""
    maps = hosts["mail"].run("postconf -h smtp_tls_policy_maps").stdout.strip()
    assert maps, "no smtp_tls_policy_maps: nothing requires TLS toward the relayhost"
    policy = hosts["mail"].run("postmap -q '[relay.tm-test.stanford.edu]:25' %s" % maps)
    assert policy.stdout.split()[:1] == ["secure"], policy.stdout + policy.stderr
    since = hosts["mail"].check_output("date +%s")
    hosts["mail"].run("printf 'Subject: tls\\n\\nx\\n' | /usr/sbin/sendmail -f root tls-probe@outside.example.org")
    journal = "journalctl -q --no-pager -t postfix/smtp --since @%s" % since
    log = hosts["mail"].run(
        "for i in $(seq 30); do %s | grep -q 'TLS connection established to relay' && break; sleep 1; done; %s"
        % (journal, journal))
    assert "Verified TLS connection established to relay.tm-test.stanford.edu" in log.stdout, log.stdout[-1500:]
    assert "Untrusted TLS" not in log.stdout and "Anonymous TLS" not in log.stdout
