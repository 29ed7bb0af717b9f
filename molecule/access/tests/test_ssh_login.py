"""MS-ACCESS / MS-2FA / TM-07: real SSH logins from a client on the campus network.

The client runs paramiko (tm-ssh-login, see ../files) so each step of the SSH
authentication is visible: which methods the server offers, what is left after the key,
which prompts it sends. One-time codes are computed here (RFC 6238: HMAC-SHA-1 over the
30-second step, dynamic truncation, 6 digits) from the secret made at run time.
"""

import base64
import hashlib
import hmac
import json
import os
import shlex
import struct
import time

import pytest

SERVER = "172.24.77.90"
ADMIN = "tmadmin"
KEY = "/root/tmadmin.key"


def credential(name):
    path = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "access", name)
    with open(path, encoding="ascii") as handle:
        return handle.read().strip()


def totp(secret, step, digits=6):
    """RFC 6238 (RFC 4226 HOTP over the time step), SHA-1, as authenticator apps use it."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return "%0*d" % (digits, number % 10 ** digits)


@pytest.mark.requirement("MS-2FA")
@pytest.mark.positive
def test_totp_matches_rfc_6238_vectors():
    # Not a host check: proves the code generator itself (RFC 6238 appendix B, SHA-1).
    secret = base64.b32encode(b"12345678901234567890").decode()
    assert totp(secret, 59 // 30, 8) == "94287082"
    assert totp(secret, 1111111109 // 30, 8) == "07081804"
    assert totp(secret, 2000000000 // 30, 8) == "69279037"


class Codes:
    """Hands out codes for time steps not used yet: the server refuses a used one."""

    def __init__(self, secret):
        self.secret = secret
        self.used = set()

    def fresh(self):
        while True:
            now = int(time.time()) // 30
            # The server accepts the previous, current and next step (window 3).
            for step in (now, now + 1):
                if step not in self.used:
                    self.used.add(step)
                    return totp(self.secret, step)
            time.sleep(30 - time.time() % 30 + 1)

    def wrong(self):
        """A 6-digit code that is not this secret's for any step within 25 hours either way
        (a code from far off would make the module track it as clock skew)."""
        now = int(time.time()) // 30
        near = {totp(self.secret, step) for step in range(now - 3100, now + 3101)}
        candidate = 0
        while "%06d" % candidate in near:
            candidate += 1
        return "%06d" % candidate


@pytest.fixture(scope="module")
def client(hosts):
    return hosts["client"]


@pytest.fixture(scope="module")
def codes():
    return Codes(credential("tmadmin.totp"))


def login(client, user, **options):
    argv = ["tm-ssh-login", SERVER, user]
    for name, value in options.items():
        argv += ["--" + name.replace("_", "-"), value]
    command = " ".join(shlex.quote(arg) for arg in argv)
    # A broken conversation (exit 3) says nothing about the server's policy: try again,
    # and never count it as a refusal.
    for _attempt in range(3):
        out = client.run(command)
        if out.rc != 3:
            break
        time.sleep(2)
    assert out.rc == 0, "the SSH test could not be carried out (rc %d): %s %s" % (out.rc, out.stdout, out.stderr)
    return json.loads(out.stdout)


@pytest.mark.requirement("TM-07", "MS-ACCESS")
def test_password_login_refused(client):
    answer = login(client, "tmlegacy", password=credential("tmlegacy.password"))
    assert not answer["authenticated"], "a password let tmlegacy in: %s" % answer


@pytest.mark.requirement("TM-07", "MS-ACCESS")
def test_password_by_keyboard_interactive_refused(client):
    # With PasswordAuthentication off, PAM behind keyboard-interactive can still take it.
    answer = login(client, "tmlegacy", kbd_password=credential("tmlegacy.password"))
    assert not answer["authenticated"], "a password given to keyboard-interactive let tmlegacy in: %s" % answer


@pytest.mark.requirement("MS-ACCESS")
def test_root_password_login_refused(client):
    answer = login(client, "root", password=credential("root.password"))
    assert not answer["authenticated"], "root logged in with a password: %s" % answer


@pytest.mark.requirement("MS-ACCESS")
def test_empty_password_login_refused(client):
    answer = login(client, "tmempty", password="")
    assert not answer["authenticated"], "an account with an empty password logged in: %s" % answer


@pytest.mark.requirement("MS-2FA")
def test_key_alone_refused(client):
    answer = login(client, ADMIN, key=KEY)
    assert not answer["authenticated"], "the key alone let %s in: %s" % (ADMIN, answer)
    assert answer["after_key"] == ["keyboard-interactive"], \
        "after the key the server should ask for the one-time code only: %s" % answer


@pytest.mark.requirement("MS-2FA")
def test_key_and_wrong_code_refused(client, codes):
    answer = login(client, ADMIN, key=KEY, code=codes.wrong())
    assert not answer["authenticated"], "a wrong one-time code let %s in: %s" % (ADMIN, answer)


@pytest.mark.requirement("MS-2FA")
@pytest.mark.positive
def test_key_and_valid_code_accepted(client, codes):
    answer = login(client, ADMIN, key=KEY, code=codes.fresh())
    assert answer["authenticated"] and answer["whoami"] == ADMIN, "the administrator cannot log in: %s" % answer


@pytest.mark.requirement("MS-2FA")
def test_code_cannot_be_replayed(client, codes):
    code = codes.fresh()
    first = login(client, ADMIN, key=KEY, code=code)
    assert first["authenticated"], "the administrator cannot log in: %s" % first
    assert first["prompts"], "no one-time code was asked for: %s" % first
    again = login(client, ADMIN, key=KEY, code=code)
    assert not again["authenticated"], "the same one-time code was accepted twice: %s" % again
