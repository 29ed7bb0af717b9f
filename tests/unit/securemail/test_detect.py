# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the Secure Email gate's detector and decisions (TM-09).

The detector (roles/securemail/files/securemail_detect.py) is the same file the gate runs
on the server. Encrypted samples are made at test time with openssl (S/MIME) and gpg
(OpenPGP) where those are installed, and also built from raw packets, so the recognition
of encryption is tested against real output and against forgeries.
"""

import base64
import json
import os
import quopri
import shutil
import subprocess
import sys
import time
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

FILES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "roles", "securemail", "files")
sys.path.insert(0, os.path.realpath(FILES))

import securemail_detect as sd  # noqa: E402
import securemail_gate as gate  # noqa: E402

# Numbers used as test data. Valid-looking ones follow the rules only; none is known to be
# anyone's. The cards are the issuers' published test numbers.
SSN = "512-34-5678"
VISA = "4111 1111 1111 1111"
CONFIG = {"action": "reject", "socket": "unix:/tmp/x", "max_message_bytes": 10 ** 7,
          "max_part_bytes": 10 ** 7, "min_matches": 1, "extra_patterns": {}}

# ---- the false-positive guard: (text, expected kinds) -------------------------------------
CASES = [
    # Social Security numbers
    ("SSN 512-34-5678", {"ssn"}),
    ("ssn: 512 34 5678", {"ssn"}),
    ("Social Security number 512345678", {"ssn"}),
    ("id 000-12-3456", set()),              # area 000 is never issued
    ("id 666-12-3456", set()),              # area 666 is never issued
    ("id 900-12-3456", set()),              # 9xx: not issued (ITINs, advertising)
    ("id 987-65-4321", set()),
    ("id 512-00-5678", set()),              # group 00
    ("id 512-34-0000", set()),              # serial 0000
    ("id 078-05-1120", set()),              # published (Woolworth's wallet card)
    ("id 512-34 5678", set()),              # mixed separators
    ("512345678", set()),                   # nine bare digits without the word SSN
    ("Order 512345678 shipped", set()),     # an order number
    ("Order no. 2024-551-23-4567-01", set()),
    ("call 650-723-2300 or 650 723 2300", set()),   # phone numbers (3-3-4)
    ("+1 (650) 723-2300", set()),
    ("tracking 1Z999AA10123456784", set()),
    ("2026-11-28 01:41:53", set()),          # timestamps
    # Payment cards
    ("card " + VISA, {"card"}),
    ("card 4111-1111-1111-1111", {"card"}),
    ("card 4111111111111111", {"card"}),
    ("amex 3782 822463 10005", {"card"}),
    ("mc 5555555555554444", {"card"}),
    ("mc2 2223003122003222", {"card"}),
    ("discover 6011111111111117", {"card"}),
    ("jcb 3530111333300000", {"card"}),
    ("diners 30569309025904", {"card"}),
    ("card 4111 1111 1111 1112", set()),     # fails Luhn
    ("card 4111-1111 1111-1111", set()),     # mixed separators
    ("number 1234567812345670", set()),      # passes Luhn, no issuer starts with 1
    ("number 0000000000000000", set()),
    ("order 7992739871300000", set()),       # no issuer prefix
    ("invoice 4111111111111", set()),        # Visa prefix, 13 digits, fails Luhn
    ("account 41111111111111111111", set()),  # 20 digits: too long
    ("ref 4111111111111111-2", set()),        # part of a longer reference
    ("iban DE89 3704 0044 0532 0130 00", set()),
]


@pytest.mark.parametrize("text,expected", CASES, ids=[c[0] for c in CASES])
def test_pattern_table(text, expected):
    assert set(sd.Detector().scan_text_of(text)) == expected


def test_extra_patterns_and_switches():
    detector = sd.Detector(ssn=False, extra_patterns={"mrn": r"\bMRN[ :]*\d{8}\b"})
    assert detector.scan_text_of("patient MRN: 12345678, SSN " + SSN) == {"mrn": 1}
    assert sd.Detector(cards=False).scan_text_of(VISA) == {}


def test_luhn_and_issuers():
    assert sd.luhn_valid("79927398713") and not sd.luhn_valid("79927398710")
    assert sd.card_issuer("4111111111111111") == "visa"
    assert sd.card_issuer("378282246310005") == "amex"
    assert sd.card_issuer("2720992720992729") == "mastercard"
    assert sd.card_issuer("2721000000000000") is None
    assert sd.card_issuer("1234567812345670") is None


@pytest.mark.parametrize("subject,marked", [
    ("Secure: payroll", True), ("Re: SECURE: payroll", True), ("fw: [secure:] x", True),
    ("Secure payroll", False), ("Secure : payroll", False), ("", False),
    ("=?UTF-8?B?U2VjdXJlOiBwYXlyb2xs?=", True),          # "Secure: payroll", base64-encoded
    ("=?iso-8859-1?q?secure=3A_caf=E9?=", True),
])
def test_marker(subject, marked):
    assert sd.is_marked(subject) is marked


# ---- MIME ------------------------------------------------------------------------------
def plain(body, subject="report", **headers):
    msg = MIMEText(body)
    msg["Subject"] = subject
    for name, value in headers.items():
        msg[name] = value
    return msg.as_bytes()


def analyse(raw, **options):
    return sd.Detector(**options).analyse(raw)


def test_plain_text_and_subject():
    assert analyse(plain("hello, nothing here")).findings == {}
    assert analyse(plain("SSN " + SSN)).findings == {"ssn": 1}
    assert analyse(plain("nothing", subject="about " + SSN)).findings == {"ssn": 1}
    assert analyse(plain("SSN " + SSN, subject="Secure: HR")).marked


@pytest.mark.parametrize("cte", ["base64", "quoted-printable"])
def test_encoded_text_parts(cte):
    content = ("name,card\r\nA," + VISA + "\r\n").encode()
    encoded = base64.encodebytes(content) if cte == "base64" else quopri.encodestring(content, quotetabs=True)
    raw = (b"Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
           b"--b\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n"
           b"--b\r\nContent-Type: text/csv\r\nContent-Transfer-Encoding: " + cte.encode() + b"\r\n\r\n"
           + encoded + b"\r\n--b--\r\n")
    assert VISA.encode() not in raw
    assert analyse(raw).findings == {"card": 1}


@pytest.mark.parametrize("ctype,filename", [("application", "octet-stream"), ("application", "vnd.ms-excel")])
def test_text_like_attachment_without_text_type(ctype, filename):
    msg = MIMEMultipart()
    msg["Subject"] = "x"
    att = MIMEApplication(("emp,ssn\nA," + SSN + "\n").encode(), filename)
    att.add_header("Content-Disposition", "attachment", filename="staff.csv")
    msg.attach(att)
    assert analyse(msg.as_bytes()).findings == {"ssn": 1}


def test_binary_attachment_is_not_scanned_but_counted():
    msg = MIMEMultipart()
    msg["Subject"] = "x"
    msg.attach(MIMEApplication(bytes(range(256)) * 64 + SSN.encode(), "pdf"))
    verdict = analyse(msg.as_bytes())
    assert verdict.findings == {} and verdict.unscanned == 1


def test_html_part():
    msg = MIMEText("<p>SSN:</p><b>%s</b>&nbsp;<i>x</i>" % SSN, "html")
    msg["Subject"] = "x"
    assert analyse(msg.as_bytes()).findings == {"ssn": 1}


def test_forwarded_message_is_walked():
    inner = MIMEText("card " + VISA)
    inner["Subject"] = "inner"
    outer = MIMEMultipart()
    outer["Subject"] = "fwd"
    outer.attach(MIMEText("see below"))
    outer.attach(MIMEBase("message", "rfc822"))
    outer.get_payload()[1].set_payload([inner])
    assert analyse(outer.as_bytes()).findings == {"card": 1}


# ---- encryption ------------------------------------------------------------------------
def pgp_armor(packet_bytes):
    body = base64.b64encode(packet_bytes).decode()
    return "-----BEGIN PGP MESSAGE-----\n\n%s\n=abcd\n-----END PGP MESSAGE-----\n" % body


PKESK = bytes([0x85, 0x0c, 0x03]) + os.urandom(11)     # old-format tag 1
SEIPD = bytes([0xD2, 0x10, 0x01]) + os.urandom(15)     # new-format tag 18
LITERAL = bytes([0xCB, 0x12, 0x62, 0x00]) + b"SSN 512-34-5678"  # tag 11: literal data, NOT encrypted


def cms(oid_hex, payload=b""):
    oid = bytes.fromhex(oid_hex)
    return bytes([0x30, 0x80, 0x06, len(oid)]) + oid + bytes([0xA0, 0x80]) + payload + b"\0\0\0\0"


def smime_message(der, ctype="application/pkcs7-mime", smime_type="enveloped-data"):
    part = MIMEApplication(der, ctype.split("/")[1])
    part.set_param("smime-type", smime_type)
    part.add_header("Content-Disposition", "attachment", filename="smime.p7m")
    part["Subject"] = "x"
    return part.as_bytes()


@pytest.mark.parametrize("ctype", ["application/pkcs7-mime", "application/x-pkcs7-mime"])
def test_smime_enveloped_both_spellings(ctype):
    verdict = analyse(smime_message(cms("2a864886f70d010703"), ctype))
    assert verdict.encrypted == {"smime"} and verdict.findings == {}


def test_smime_auth_enveloped():
    assert analyse(smime_message(cms("2a864886f70d0109100117"), smime_type="authEnveloped-data")).encrypted == {"smime"}


def test_smime_signed_is_not_encryption():
    der = cms("2a864886f70d010702", b"Content-Type: text/plain\r\n\r\nSSN " + SSN.encode())
    verdict = analyse(smime_message(der, smime_type="signed-data"))
    assert verdict.encrypted == set() and verdict.findings == {"ssn": 1}


def test_smime_label_on_clear_content_is_not_trusted():
    verdict = analyse(smime_message(("SSN " + SSN).encode()))
    assert verdict.encrypted == set() and verdict.findings == {"ssn": 1}


def test_multipart_signed_is_scanned():
    msg = MIMEMultipart("signed", protocol="application/pgp-signature", micalg="pgp-sha256")
    msg["Subject"] = "x"
    msg.attach(MIMEText("card " + VISA))
    msg.attach(MIMEApplication(b"-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n", "pgp-signature"))
    verdict = analyse(msg.as_bytes())
    assert verdict.findings == {"card": 1} and not verdict.encrypted


def pgp_mime(payload_text):
    msg = MIMEMultipart("encrypted", protocol="application/pgp-encrypted")
    msg["Subject"] = "x"
    msg.attach(MIMEApplication(b"Version: 1\n", "pgp-encrypted"))
    msg.attach(MIMEApplication(payload_text.encode(), "octet-stream"))
    return msg.as_bytes()


def test_pgp_mime():
    verdict = analyse(pgp_mime(pgp_armor(PKESK + SEIPD)))
    assert verdict.encrypted == {"pgp-mime"} and verdict.findings == {}


def test_pgp_mime_with_clear_payload_is_scanned():
    verdict = analyse(pgp_mime("SSN " + SSN))
    assert verdict.encrypted == set() and verdict.findings == {"ssn": 1}
    verdict = analyse(pgp_mime(pgp_armor(LITERAL)))
    assert verdict.encrypted == set()


def test_inline_pgp_and_clear_text_beside_it():
    verdict = analyse(plain("Hi,\n" + pgp_armor(PKESK + SEIPD) + "bye"))
    assert verdict.encrypted == {"pgp-inline"} and verdict.findings == {}
    verdict = analyse(plain("SSN " + SSN + "\n" + pgp_armor(PKESK + SEIPD)))
    assert verdict.findings == {"ssn": 1}


def test_fake_armor_is_scanned():
    fake = "-----BEGIN PGP MESSAGE-----\n\nSSN %s\n-----END PGP MESSAGE-----\n" % SSN
    verdict = analyse(plain(fake))
    assert verdict.encrypted == set() and verdict.findings == {"ssn": 1}


def test_clearsigned_pgp_is_scanned():
    text = ("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\ncard %s\n-----BEGIN PGP SIGNATURE-----\n\nabc\n"
            "-----END PGP SIGNATURE-----\n" % VISA)
    verdict = analyse(plain(text))
    assert verdict.findings == {"card": 1} and not verdict.encrypted


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    home = tmp_path_factory.mktemp("pki")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test",
                    "-keyout", str(home / "key.pem"), "-out", str(home / "cert.pem")], check=True, capture_output=True)
    return home


def test_real_openssl_smime(keys):
    body = b"Content-Type: text/plain\r\n\r\nSSN " + SSN.encode() + b"\r\n"
    enc = subprocess.run(["openssl", "smime", "-encrypt", "-aes256", "-subject", "x", str(keys / "cert.pem")],
                         input=body, capture_output=True, check=True).stdout
    verdict = analyse(enc)
    assert verdict.encrypted == {"smime"} and verdict.findings == {}
    signed = subprocess.run(["openssl", "smime", "-sign", "-nodetach", "-signer", str(keys / "cert.pem"),
                             "-inkey", str(keys / "key.pem"), "-subject", "x"],
                            input=body, capture_output=True, check=True).stdout
    verdict = analyse(signed)
    assert verdict.encrypted == set() and verdict.findings == {"ssn": 1}


def test_real_gpg_message(tmp_path):
    if not shutil.which("gpg"):
        pytest.skip("gpg is not installed")
    env = dict(os.environ, GNUPGHOME=str(tmp_path))
    os.chmod(tmp_path, 0o700)
    subprocess.run(["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key",
                    "test@example.org", "default", "default", "1d"], env=env, check=True, capture_output=True)
    armored = subprocess.run(["gpg", "--batch", "--armor", "--trust-model", "always", "-e", "-r", "test@example.org"],
                             input=("SSN " + SSN).encode(), env=env, check=True, capture_output=True).stdout.decode()
    assert analyse(pgp_mime(armored)).encrypted == {"pgp-mime"}
    verdict = analyse(plain("see below\n" + armored))
    assert verdict.encrypted == {"pgp-inline"} and verdict.findings == {}
    symmetric = subprocess.run(["gpg", "--batch", "--armor", "--pinentry-mode", "loopback", "--passphrase", "x", "-c"],
                               input=b"secret", env=env, check=True, capture_output=True).stdout.decode()
    assert analyse(plain(symmetric)).encrypted == {"pgp-inline"}
    signed = subprocess.run(["gpg", "--batch", "--armor", "-s"], input=("SSN " + SSN).encode(), env=env,
                            check=True, capture_output=True).stdout.decode()
    assert analyse(plain(signed)).encrypted == set()


# ---- malformed and huge ----------------------------------------------------------------
@pytest.mark.parametrize("raw", [
    b"",
    b"garbage without headers " + SSN.encode(),
    b"Subject: x\r\nContent-Type: multipart/mixed\r\n\r\nno boundary " + SSN.encode(),
    b"Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
    + SSN.encode() + b"\r\n",                                   # never closed
    b"Subject: x\r\nContent-Type: text/plain; charset=no-such-charset\r\n\r\nSSN " + SSN.encode(),
    b"Subject: x\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode(b"SSN " + SSN.encode())[:-3] + b"!!",
    b"Subject: =?bogus?Q?x?=\r\n\r\nSSN " + SSN.encode(),
])
def test_malformed_messages_do_not_escape(raw):
    verdict = analyse(raw)
    if SSN.encode() in raw or b"NTEyLTM0LTU2Nzg" in raw:
        assert verdict.findings.get("ssn") == 1, verdict.summary()


def test_deep_nesting_falls_back_to_a_raw_scan():
    depth = 3000
    raw = b"Subject: deep\r\n"
    for level in range(depth):
        raw += b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (level, level)
    raw += b"Content-Type: text/plain\r\n\r\nSSN " + SSN.encode() + b"\r\n"
    verdict = analyse(raw)
    assert verdict.findings == {"ssn": 1}


def test_huge_message_is_scanned_in_reasonable_time():
    filler = ("lorem ipsum 650-723-2300 order 512345678 " * 20 + "\n").encode()
    body = filler * (20 * 1024 * 1024 // len(filler)) + b"card " + VISA.encode()
    start = time.time()
    verdict = analyse(b"Subject: big\r\n\r\n" + body)
    assert verdict.findings == {"card": 1}
    assert time.time() - start < 30


def test_part_limit_is_reported():
    verdict = analyse(plain("x" * 5000 + " SSN " + SSN), max_part_bytes=1000)
    assert verdict.truncated and verdict.findings == {}


# ---- decisions and logging -------------------------------------------------------------
def verdict_of(raw):
    return sd.Detector().analyse(raw)


@pytest.mark.parametrize("action", ["reject", "hold", "route"])
def test_decisions(action):
    config = dict(CONFIG, action=action)
    decision, reply = gate.decide(verdict_of(plain("SSN " + SSN)), config)
    assert decision == action
    if action == "reject":
        assert "Secure:" in reply and SSN not in reply and "(ssn)" in reply
    assert gate.decide(verdict_of(plain("SSN " + SSN, subject="Secure: x")), config)[0] == "route-marked"
    assert gate.decide(verdict_of(smime_message(cms("2a864886f70d010703"))), config)[0] == "pass-encrypted"
    assert gate.decide(verdict_of(plain("hello")), config)[0] == "pass"


def test_min_matches():
    config = dict(CONFIG, min_matches=2)
    assert gate.decide(verdict_of(plain("SSN " + SSN)), config)[0] == "pass"
    assert gate.decide(verdict_of(plain("SSN %s and %s" % (SSN, VISA))), config)[0] == "reject"


def test_summary_never_holds_the_data():
    verdict = verdict_of(plain("SSN %s card %s" % (SSN, VISA), subject="about " + SSN))
    line = verdict.summary()
    assert "ssn:2" in line and "card:1" in line
    for secret in (SSN, VISA, SSN.replace("-", ""), VISA.replace(" ", ""), "5678", "1111"):
        assert secret not in line


@pytest.mark.parametrize("change,message", [
    ({"action": "drop"}, "action must be one of"),
    ({"extra_patterns": {"mrn": "([unclosed"}}, "extra pattern mrn"),
    ({"extra_patterns": {"ssn": "x"}}, "not ssn or card"),
    ({"min_matches": 0}, "min_matches"),
    ({"socket": "/tmp/x"}, "socket must be"),
])
def test_check_config_refuses_bad_settings(tmp_path, change, message, capsys):
    path = tmp_path / "gate.json"
    path.write_text(json.dumps(dict(CONFIG, **change)))
    assert gate.main(["--check-config", str(path)]) == 1
    assert message in capsys.readouterr().err
    path.write_text(json.dumps(CONFIG))
    assert gate.main(["--check-config", str(path)]) == 0
