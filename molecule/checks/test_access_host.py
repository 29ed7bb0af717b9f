"""MS-ACCESS / MS-2FA / TM-07 checks that need only the host itself.

Shared by every scenario that converges the access role (molecule's
``additional_files_or_dirs``) and meant for a live audit too: they read what sshd and
PAM actually use (``sshd -T``, the PAM stack with its includes resolved, libpwquality's
own verdict) rather than the role's files, and change nothing on the host.
"""

import datetime
import json
import shlex

import pytest
from audit_expect import expected

# Never acceptable in the effective configuration (substrings of algorithm names).
WEAK = ("cbc", "arcfour", "3des", "blowfish", "hmac-md5", "hmac-sha1", "umac-64", "ripemd",
        "diffie-hellman-group1-", "diffie-hellman-group14-sha1", "diffie-hellman-group-exchange-sha1")
SECOND_FACTOR_MODULES = ("pam_google_authenticator.so", "pam_duo.so", "pam_oath.so")
REVIEW_FILE = expected("access_review_file", "/var/lib/trusted-mail/access-review.json")
SSH_PORT = int(expected("baseline_ssh_port", 22))
# Where the access role keeps each administrator's TOTP secret (pam_google_authenticator's
# secret=<store>/${USER}); checked even when sshd's PAM stack does not name it.
TOTP_STORE = "/var/lib/trusted-mail/totp"

# libpwquality's own check, through ctypes (no extra package): prints the score, or the
# error code and libpwquality's reason. The user name matters for the user-name checks.
PWQUALITY_CHECK = r"""
import ctypes, sys
lib = ctypes.CDLL("libpwquality.so.1")
lib.pwquality_default_settings.restype = ctypes.c_void_p
lib.pwquality_strerror.restype = ctypes.c_char_p
lib.pwquality_strerror.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_void_p]
lib.pwquality_read_config.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
lib.pwquality_check.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
settings = lib.pwquality_default_settings()
aux = ctypes.c_void_p()
if lib.pwquality_read_config(settings, None, ctypes.byref(aux)) != 0:
    print("config-error"); sys.exit(0)
aux = ctypes.c_void_p()
score = lib.pwquality_check(settings, sys.argv[1].encode(), None, b"tmprobe", ctypes.byref(aux))
buf = ctypes.create_string_buffer(256)
print(score, (lib.pwquality_strerror(buf, 256, score, aux) or b"").decode() if score < 0 else "ok")
"""


@pytest.fixture(scope="module")
def mail(hosts):
    return hosts["mail"]


@pytest.fixture(scope="module")
def sshd(mail):
    """sshd's effective global settings: what it uses, whatever file set them."""
    out = mail.run("/usr/sbin/sshd -T")
    assert out.rc == 0, "sshd -T failed (is openssh-server installed?): %s" % out.stderr
    settings = {}
    for line in out.stdout.splitlines():
        key, _, value = line.partition(" ")
        settings.setdefault(key, value)
    return settings


@pytest.fixture(scope="module")
def sshd_auth(mail):
    """(module, arguments) of sshd's PAM auth stack, includes resolved (read once per host)."""
    return pam_entries(mail, "sshd")


def pam_entries(host, service, facility="auth", depth=0):
    """(module, arguments) of one facility of a PAM service, with @include/include/substack resolved."""
    assert depth < 8, "PAM includes nest too deep at %s" % service
    out = host.run("cat -- %s", "/etc/pam.d/%s" % service)
    text = out.stdout if out.rc == 0 else ""  # a missing file adds nothing, as in PAM
    entries = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if words[0] == "@include" and len(words) > 1:
            entries += pam_entries(host, words[1], facility, depth + 1)
        elif words[0].lstrip("-") == facility and len(words) > 2:
            control = words[1]
            if control.startswith("["):  # [value=action ...] may hold spaces
                rest = line.split("#", 1)[0].split("]", 1)[1].split()
            else:
                rest = words[2:]
            target, args = (rest[0], rest[1:]) if rest else ("", [])
            if control in ("include", "substack"):
                entries += pam_entries(host, target, facility, depth + 1)
            else:
                entries.append((target.rsplit("/", 1)[-1], args))
    return entries


def pam_stack(host, service, facility="auth"):
    """Module names of one facility of a PAM service, with @include/include/substack resolved."""
    return [module for module, _ in pam_entries(host, service, facility)]


def pwquality(host, password):
    """libpwquality's verdict on a password: (score, reason); score < 0 means refused, None no verdict."""
    out = host.run("python3 - %s <<'TM_EOF'\n%s\nTM_EOF" % (shlex.quote(password), PWQUALITY_CHECK))
    words = out.stdout.split(None, 1)
    if out.rc != 0 or not words or not words[0].lstrip("-").isdigit():
        return None, (out.stdout + out.stderr).strip()[-300:]
    return int(words[0]), words[1].strip() if len(words) > 1 else ""


@pytest.mark.requirement("MS-ACCESS")
@pytest.mark.positive
def test_sshd_runs(mail):
    assert mail.service("ssh").is_running, "sshd is not running"
    assert mail.service("ssh").is_enabled, "sshd is not enabled at boot"
    assert mail.socket("tcp://0.0.0.0:%d" % SSH_PORT).is_listening or mail.socket("tcp://:::%d" % SSH_PORT).is_listening, (
        "sshd does not listen on port %d" % SSH_PORT)


@pytest.mark.requirement("TM-07", "MS-ACCESS")
def test_no_password_authentication(sshd):
    assert sshd.get("passwordauthentication") == "no", \
        "sshd takes passwords (PasswordAuthentication %s)" % sshd.get("passwordauthentication")


@pytest.mark.requirement("MS-ACCESS")
def test_no_root_login_by_password(sshd):
    assert sshd.get("permitrootlogin") in ("no", "prohibit-password", "without-password", "forced-commands-only"), \
        "PermitRootLogin is %s" % sshd.get("permitrootlogin")


@pytest.mark.requirement("MS-ACCESS")
def test_no_empty_passwords_over_ssh(sshd):
    assert sshd.get("permitemptypasswords") == "no", "PermitEmptyPasswords is %s" % sshd.get("permitemptypasswords")


@pytest.mark.requirement("MS-ACCESS")
@pytest.mark.debian_default
def test_no_account_with_an_empty_password(mail):
    shadow = mail.check_output("getent shadow")
    empty = [line.split(":")[0] for line in shadow.splitlines() if len(line.split(":")) > 1 and line.split(":")[1] == ""]
    assert not empty, "accounts with an empty password: %s" % ", ".join(empty)


@pytest.mark.requirement("MS-2FA", "TM-07")
def test_keyboard_interactive_only_as_second_factor(sshd, sshd_auth):
    if sshd.get("kbdinteractiveauthentication") != "yes":
        return  # keys only: no password can come in by keyboard-interactive
    lists = sshd.get("authenticationmethods", "any").split()
    assert "any" not in lists, "keyboard-interactive is a method of its own (AuthenticationMethods any)"
    for methods in lists:
        steps = methods.split(",")
        assert steps[0] == "publickey" and "keyboard-interactive" in steps, \
            "keyboard-interactive is not only the step after the key: AuthenticationMethods %s" % methods
    auth = [module for module, _ in sshd_auth]
    assert "pam_unix.so" not in auth, "sshd's PAM stack would take a Unix password: %s" % auth


@pytest.mark.requirement("MS-2FA")
def test_second_factor_required(sshd, sshd_auth):
    lists = sshd.get("authenticationmethods", "any").split()
    assert "any" not in lists, "sshd lets a single method in (AuthenticationMethods any)"
    for methods in lists:
        steps = methods.split(",")
        assert "publickey" in steps and "keyboard-interactive" in steps, \
            "AuthenticationMethods %s does not ask for the key and then a one-time code" % methods
    assert sshd.get("kbdinteractiveauthentication") == "yes"
    auth = [module for module, _ in sshd_auth]
    assert any(module in SECOND_FACTOR_MODULES for module in auth), \
        "sshd's PAM auth stack has no one-time-code module: %s" % auth


@pytest.mark.requirement("MS-2FA")
def test_one_time_code_secrets_are_root_only(mail, sshd_auth, record_property):
    """Only root can read or replace the TOTP secrets behind the second factor."""
    # store -> who must own its secrets: pam_google_authenticator's user= option, or each
    # user their own (None) when the module reads the secret as the logging-in user
    stores = {TOTP_STORE: "root"}
    for module, args in sshd_auth:
        options = dict(arg.split("=", 1) for arg in args if "=" in arg)
        store, _, name = options.get("secret", "").rpartition("/")
        if module == "pam_google_authenticator.so" and name == "${USER}" and store and "$" not in store:
            stores[store.rstrip("/")] = options.get("user")
    # mode (octal), owner, group, type (d, f, l, ...) and path of each store and what is in it
    script = "for d do [ ! -e \"$d\" ] || find \"$d\" -maxdepth 1 -printf '%m %u %g %y %p\\n'; done"
    listing = mail.run(" ".join(["sh", "-c", shlex.quote(script), "sh"] + [shlex.quote(s) for s in sorted(stores)]))
    assert listing.rc == 0, "could not list the TOTP secrets: %s" % listing.stderr.strip()
    loose, secrets = [], 0
    for line in listing.stdout.splitlines():
        mode, owner, group, kind, path = line.split(" ", 4)
        if path.rstrip("/") in stores:
            if kind != "d" or owner != "root" or int(mode, 8) & 0o077:
                loose.append("%s (%s %s %s, wanted a directory 0700 root)" % (path, kind, mode, owner))
            continue
        secrets += 1
        store, _, name = path.rpartition("/")
        wanted = stores.get(store) or name
        if kind != "f" or owner != wanted or int(mode, 8) & 0o077:
            loose.append("%s (%s %s %s:%s, wanted a file 0400 %s)" % (path, kind, mode, owner, group, wanted))
    record_property("evidence", "%d TOTP secret(s) in %s" % (secrets, ", ".join(sorted(stores))))
    assert not loose, "TOTP secrets others could read or replace: %s" % "; ".join(loose)
    modules = [module for module, _ in sshd_auth]
    assert secrets or "pam_duo.so" in modules, \
        "no TOTP secret installed and no Duo in sshd's PAM stack: nothing stands behind a second factor (%s)" % modules


@pytest.mark.requirement("TM-07")
@pytest.mark.parametrize("setting", ["ciphers", "macs", "kexalgorithms"])
def test_modern_algorithms_only(sshd, setting):
    names = sshd.get(setting, "").split(",")
    assert names and names != [""], "sshd -T shows no %s" % setting
    weak = [name for name in names if any(bad in name for bad in WEAK)]
    assert not weak, "weak %s in use: %s" % (setting, ", ".join(weak))


@pytest.mark.requirement("MS-ACCESS")
def test_password_quality_in_password_stack(mail):
    stack = pam_stack(mail, "common-password", "password")
    assert "pam_pwquality.so" in stack, "no pam_pwquality in the password stack: %s" % stack
    assert stack.index("pam_pwquality.so") < stack.index("pam_unix.so"), stack


@pytest.mark.requirement("MS-ACCESS")
def test_password_quality_policy(mail):
    # libpwquality reads the same files pam_pwquality does: its verdicts are the policy.
    weak = {"short": "Tr7#kq9Lmz2", "13 characters": "Tr7#kq9Lmz2Wx", "dictionary word": "password12345678"}
    for what, password in weak.items():
        score, reason = pwquality(mail, password)
        assert score is not None, "libpwquality gave no verdict: %s" % reason
        assert score < 0, "a weak password (%s) is accepted (score %s)" % (what, score)
    score, reason = pwquality(mail, "Vq8!nR3#tLw6@zYp2Ke")
    assert score is not None and score >= 0, "a strong password is refused: %s" % reason
    conf = mail.file("/etc/security/pwquality.conf").content_string
    assert any(line.strip() == "enforce_for_root" for line in conf.splitlines()), \
        "root may set weak passwords (no enforce_for_root)"


@pytest.mark.requirement("MS-ACCESS")
def test_account_review_report(mail):
    report = mail.file(REVIEW_FILE)
    assert report.exists, "no account review report at %s" % REVIEW_FILE
    assert report.user == "root" and report.mode & 0o007 == 0, "the report is readable by everyone"
    data = json.loads(report.content_string)
    generated = datetime.datetime.fromisoformat(data["generated"])
    age = datetime.datetime.now(datetime.timezone.utc) - generated
    assert age < datetime.timedelta(days=2), "the report is %s old" % age
    names = {account["name"]: account for account in data["accounts"]}
    for line in mail.check_output("getent passwd").splitlines():
        name, _, uid = line.split(":")[:3]
        if int(uid) == 0 or (int(uid) >= 1000 and name != "nobody"):
            assert name in names, "account %s (uid %s) missing from the report" % (name, uid)
    assert "root" in data["uid0_accounts"]
    # Every key sshd would accept for an account in the report is listed, by fingerprint.
    for name, account in names.items():
        listed = {key["fingerprint"] for key in account["authorized_keys"]}
        path = "%s/.ssh/authorized_keys" % account["home"]
        if mail.file(path).exists:
            actual = {line.split()[1] for line in mail.check_output("ssh-keygen -l -f %s" % path).splitlines()}
            assert actual <= listed, "keys of %s missing from the report: %s" % (name, actual - listed)
    assert "sudoers" in data["sudo"] and "groups" in data["sudo"]
    timer = mail.service("trusted-mail-access-review.timer")
    assert timer.is_enabled and timer.is_running, "the daily refresh of the report is not scheduled"
