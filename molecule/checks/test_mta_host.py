"""TM-05 / TM-07 checks that need only the mail host itself.

Shared by every scenario that converges the MTA (through molecule's
``additional_files_or_dirs``) and by the demo's compliance summary. Sessions run from
the host to its own loopback, so these checks also work where no second host exists.
"""

import pytest
from smtp_checks import session


@pytest.fixture(scope="module")
def mail(hosts):
    return hosts["mail"]


def postconf(host, *names):
    return dict(zip(names, host.check_output("postconf -h %s" % " ".join(names)).splitlines()))


@pytest.mark.requirement("TM-05")
@pytest.mark.positive
def test_postfix_is_the_mta_and_runs(mail):
    assert mail.package("postfix").is_installed
    assert mail.run("postfix status").rc == 0, "Postfix is not running"
    assert mail.service("postfix").is_enabled
    for other in ("exim4-base", "exim4-daemon-light", "sendmail-bin", "opensmtpd", "nullmailer"):
        assert not mail.package(other).is_installed, other


@pytest.mark.requirement("TM-05")
def test_relay_only_for_campus_networks(mail):
    conf = postconf(mail, "smtpd_relay_restrictions", "mynetworks", "allow_untrusted_routing",
                    "allow_percent_hack", "swap_bangpath")
    relay = [r.strip() for r in conf["smtpd_relay_restrictions"].replace(",", " ").split()]
    assert relay[-1] == "reject_unauth_destination", relay
    assert set(relay) <= {"permit_mynetworks", "permit_sasl_authenticated", "reject_unauth_destination"}, relay
    nets = conf["mynetworks"].replace(",", " ").split()
    assert nets and not any(n in ("0.0.0.0/0", "[::]/0", "0/0") for n in nets), nets
    assert "172.24.0.0/14" in nets, "campus networks missing from mynetworks: %s" % nets
    assert conf["allow_untrusted_routing"] == "no"
    assert conf["allow_percent_hack"] == "no" and conf["swap_bangpath"] == "no"


@pytest.mark.requirement("TM-07")
def test_auth_only_after_tls(mail):
    conf = postconf(mail, "smtpd_tls_auth_only", "smtpd_sasl_security_options")
    assert conf["smtpd_tls_auth_only"] == "yes"
    assert "noplaintext" in conf["smtpd_sasl_security_options"]
    answer = session(mail, "127.0.0.1", 25)
    assert "error" not in answer, answer
    assert not any(line.upper().startswith("AUTH") for line in answer["ehlo"].splitlines()), answer["ehlo"]


@pytest.mark.requirement("TM-07")
def test_tls_offered_with_modern_floor(mail):
    conf = postconf(mail, "smtpd_tls_protocols", "smtpd_tls_mandatory_protocols", "smtp_tls_protocols")
    for name, value in conf.items():
        assert value.replace(" ", "") in (">=TLSv1.2", ">=TLSv1.3"), "%s = %s" % (name, value)
    old = mail.run("echo QUIT | timeout 10 openssl s_client -starttls smtp -connect 127.0.0.1:25 -tls1_1 "
                   "-cipher 'DEFAULT:@SECLEVEL=0' 2>&1")
    assert "Cipher is (NONE)" in old.stdout or "alert protocol version" in old.stdout \
        or "no protocols available" in old.stdout, old.stdout[-600:]
    new = mail.run("echo QUIT | timeout 10 openssl s_client -starttls smtp -connect 127.0.0.1:25 -tls1_2 2>&1")
    assert "TLSv1.2" in new.stdout and "Cipher is (NONE)" not in new.stdout, new.stdout[-600:]


@pytest.mark.requirement("TM-07")
def test_private_key_is_root_only(mail):
    key = mail.file(mail.check_output("postconf -h smtpd_tls_key_file"))
    assert key.exists and key.user == "root" and key.mode & 0o077 == 0, oct(key.mode) if key.exists else "missing"
