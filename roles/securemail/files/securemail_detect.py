# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""High Risk Data detector of the Secure Email gate (TM-09).

Pure Python (standard library only), so that the gate (securemail_gate.py) and the unit
tests (tests/unit/securemail) use exactly the same code.

``Detector(...).analyse(raw_message_bytes)`` returns a ``Verdict``:

* ``marked``     the Subject (RFC 2047 decoded) contains ``Secure:`` (case-insensitive)
* ``encrypted``  the kinds of encrypted content found and recognised as really encrypted:
                 ``smime`` (application/pkcs7-mime or application/x-pkcs7-mime holding CMS
                 enveloped-data or authEnveloped-data), ``pgp-mime`` (multipart/encrypted
                 whose payload is an OpenPGP encrypted message), ``pgp-inline`` (an armored
                 ``BEGIN PGP MESSAGE`` block holding encrypted packets). Signatures are not
                 encryption: signed content is scanned like any other.
* ``findings``   ``{kind: count}`` of High Risk Data patterns in the clear content: ``ssn``,
                 ``card`` and the names of the configured extra patterns. The matched
                 text itself is never kept.

Only clear content is scanned: text parts, text-like attachments (by type, file name or
content), the decoded Subject, the clear parts of an encrypted message and signed
S/MIME content. Encrypted blocks are taken out before the scan, so a message that is
encrypted as a whole has no findings, while clear High Risk Data next to an encrypted
attachment is still found.
"""

import base64
import binascii
import email
import email.errors
import email.header
import email.policy
import html
import re

SSN = "ssn"
CARD = "card"

# ---------------------------------------------------------------------------------------
# Social Security numbers
# Formatted AAA-GG-SSSS or AAA GG SSSS (the same separator twice), not inside a longer
# run of digits or dashes (phone numbers are 3-3-4, order numbers longer). Nine bare
# digits count only right after "SSN", "SS#" or "social security".
_SSN_FORMATTED = re.compile(r"(?<![\w-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\w-])")
_SSN_BARE = re.compile(r"(?i)(?:\bssn\b|\bss#|\bsocial\s+security\b)[^\d\n]{0,30}(?<![\w-])(\d{9})(?![\w-])")
# Numbers the Social Security Administration never issues, and numbers made public
# (so invalid) by their use in advertising.
_SSN_PUBLISHED = {"078051120", "219099999"}


def valid_ssn(area, group, serial):
    """True for a number the SSA could have issued: area not 000, 666 or 900-999, group not
    00, serial not 0000, and not one of the published numbers."""
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    return area + group + serial not in _SSN_PUBLISHED


def find_ssns(text):
    count = 0
    for match in _SSN_FORMATTED.finditer(text):
        if valid_ssn(match.group(1), match.group(3), match.group(4)):
            count += 1
    lower = text.lower()
    if "ssn" not in lower and "ss#" not in lower and "social" not in lower:
        return count   # bare digits count only after one of these words: skip the slower search
    for match in _SSN_BARE.finditer(text):
        digits = match.group(1)
        if valid_ssn(digits[:3], digits[3:5], digits[5:]):
            count += 1
    return count


# ---------------------------------------------------------------------------------------
# Payment card numbers: 13 to 19 digits, written together or in groups with one kind of
# separator (space or dash), with a known issuer prefix and length, and a valid Luhn sum.
_CARD_CANDIDATE = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")

# (first digits: inclusive ranges of the prefix as integers, prefix length, allowed lengths)
_ISSUERS = (
    ("visa", 1, ((4, 4),), (13, 16, 19)),
    ("mastercard", 2, ((51, 55),), (16,)),
    ("mastercard", 4, ((2221, 2720),), (16,)),
    ("amex", 2, ((34, 34), (37, 37)), (15,)),
    ("discover", 4, ((6011, 6011),), (16, 17, 18, 19)),
    ("discover", 3, ((644, 649),), (16, 17, 18, 19)),
    ("discover", 2, ((65, 65),), (16, 17, 18, 19)),
    ("discover", 6, ((622126, 622925),), (16, 17, 18, 19)),
    ("diners", 3, ((300, 305),), (14, 15, 16, 17, 18, 19)),
    ("diners", 2, ((36, 36), (38, 39)), (14, 15, 16, 17, 18, 19)),
    ("jcb", 4, ((3528, 3589),), (16, 17, 18, 19)),
    ("unionpay", 2, ((62, 62),), (16, 17, 18, 19)),
)


def luhn_valid(digits):
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def card_issuer(digits):
    """The issuer whose prefix and length the number fits, or None."""
    for name, width, ranges, lengths in _ISSUERS:
        if len(digits) not in lengths:
            continue
        prefix = int(digits[:width])
        if any(low <= prefix <= high for low, high in ranges):
            return name
    return None


def valid_card(candidate):
    separators = set(re.sub(r"\d", "", candidate))
    if len(separators) > 1:
        return False
    digits = re.sub(r"\D", "", candidate)
    if len(set(digits)) == 1:
        return False
    return card_issuer(digits) is not None and luhn_valid(digits)


def find_cards(text):
    return sum(1 for match in _CARD_CANDIDATE.finditer(text) if valid_card(match.group(0)))


# ---------------------------------------------------------------------------------------
# Encrypted content
_OID_ENVELOPED = bytes.fromhex("2a864886f70d010703")          # 1.2.840.113549.1.7.3
_OID_AUTH_ENVELOPED = bytes.fromhex("2a864886f70d0109100117")  # 1.2.840.113549.1.9.16.1.23
_OID_SIGNED = bytes.fromhex("2a864886f70d010702")             # 1.2.840.113549.1.7.2
_SMIME_TYPES = ("application/pkcs7-mime", "application/x-pkcs7-mime")
_SIGNATURE_TYPES = ("application/pgp-signature", "application/pkcs7-signature",
                    "application/x-pkcs7-signature")
# OpenPGP packets an encrypted message starts with: public-key or symmetric-key encrypted
# session key, symmetrically encrypted data (with or without integrity protection), AEAD.
_PGP_ENCRYPTED_TAGS = {1, 3, 9, 18, 20}
_PGP_BLOCK = re.compile(r"-----BEGIN PGP MESSAGE-----[ \t]*\r?\n(.*?)-----END PGP MESSAGE-----", re.S)


def cms_content_type(der):
    """The content type OID (raw bytes) of a DER/BER CMS ContentInfo, or None."""
    if len(der) < 4 or der[0] != 0x30:
        return None
    pos = 2
    if der[1] & 0x80:
        pos += der[1] & 0x7F   # long form (or 0x80, indefinite length: no length bytes)
    if pos + 2 > len(der) or der[pos] != 0x06:
        return None
    length = der[pos + 1]
    return der[pos + 2:pos + 2 + length]


def pgp_packets_encrypted(data):
    """True when binary OpenPGP data starts with a packet of an encrypted message."""
    if not data or not data[0] & 0x80:
        return False
    tag = data[0] & 0x3F if data[0] & 0x40 else (data[0] >> 2) & 0x0F
    return tag in _PGP_ENCRYPTED_TAGS


def armored_encrypted(block):
    """True when the body of an armored PGP MESSAGE block holds encrypted packets."""
    lines = block.replace("\r", "").split("\n")
    # Armor headers ("Version: ...") end at the first empty line.
    if "" in lines:
        first = lines.index("")
        if all(":" in line for line in lines[:first]):
            lines = lines[first + 1:]
    data = "".join(line.strip() for line in lines if line.strip() and not line.startswith("="))
    if not data or not re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", data):
        return False
    try:
        raw = base64.b64decode(data + "=" * (-len(data) % 4))
    except (binascii.Error, ValueError):
        return False
    return pgp_packets_encrypted(raw)


def strip_pgp_blocks(text):
    """(text without its encrypted armored blocks, whether any was found). Blocks whose
    content is not really encrypted stay in the text and are scanned."""
    found = []

    def replace(match):
        if armored_encrypted(match.group(1)):
            found.append(True)
            return " "
        return match.group(0)

    if "-----BEGIN PGP MESSAGE-----" not in text:
        return text, False
    return _PGP_BLOCK.sub(replace, text), bool(found)


# ---------------------------------------------------------------------------------------
# Text-like content
_TEXT_TYPES = {
    "application/json", "application/xml", "application/csv", "application/x-csv",
    "application/rtf", "application/javascript", "application/x-yaml", "application/yaml",
    "application/sql", "application/x-sh", "application/ld+json", "application/x-tex",
    "message/delivery-status", "application/x-ndjson",
}
_TEXT_EXTENSIONS = {
    "txt", "csv", "tsv", "json", "xml", "log", "md", "htm", "html", "rtf", "ics", "vcf",
    "sql", "yaml", "yml", "ini", "cfg", "conf", "tex", "eml", "asc", "text", "dat",
}
_PRINTABLE = set(range(32, 127)) | {9, 10, 12, 13}


def looks_like_text(data):
    """True for bytes that read as text: no NUL, and at least 95 % printable ASCII or
    valid UTF-8 in the first 8 KiB."""
    sample = data[:8192]
    if not sample or b"\0" in sample:
        return False
    try:
        sample.decode("utf-8")
        return True
    except UnicodeDecodeError as err:
        if err.start >= len(sample) - 4:   # a character cut at the end of the sample
            return True
    return sum(1 for byte in sample if byte in _PRINTABLE) >= 0.95 * len(sample)


def _decode(data, charset):
    try:
        return data.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")


def _html_to_text(text):
    return html.unescape(re.sub(r"<[^>]*>", " ", text))


class Verdict:
    def __init__(self):
        self.marked = False
        self.encrypted = set()
        self.findings = {}
        self.truncated = False
        self.unscanned = 0        # binary parts that are not text (documents, images, archives)
        self.fallback = False     # the MIME structure could not be walked: raw text scanned

    @property
    def high_risk(self):
        return bool(self.findings)

    def summary(self):
        """One log-safe line: kinds and counts only, never the data."""
        return "marked=%s encrypted=%s findings=%s unscanned_parts=%d%s%s" % (
            "yes" if self.marked else "no",
            ",".join(sorted(self.encrypted)) or "none",
            ",".join("%s:%d" % item for item in sorted(self.findings.items())) or "none",
            self.unscanned,
            " truncated=yes" if self.truncated else "",
            " fallback=raw" if self.fallback else "")


_MARKER = re.compile(r"secure:", re.I)


def subject_text(value):
    """The Subject header decoded from RFC 2047 words (undecodable words stay as written)."""
    if value is None:
        return ""
    value = str(value)
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except (email.errors.HeaderParseError, LookupError, UnicodeError, ValueError):
        return value


def is_marked(subject):
    """``Secure:`` anywhere in the (decoded) Subject, case-insensitive, colon required."""
    return bool(_MARKER.search(subject_text(subject)))


class Detector:
    """Finds High Risk Data in the clear content of a message.

    ``extra_patterns``   {name: regular expression}: more kinds of High Risk Data
    ``max_part_bytes``   most decoded bytes scanned per part (the rest is not scanned,
                         and the verdict says ``truncated``)
    ``max_depth``        deepest MIME nesting walked; deeper parts are scanned as raw text
    """

    def __init__(self, ssn=True, cards=True, extra_patterns=None, max_part_bytes=26214400, max_depth=20):
        self.ssn = ssn
        self.cards = cards
        self.extra = dict((name, re.compile(rx)) for name, rx in (extra_patterns or {}).items())
        self.max_part_bytes = max_part_bytes
        self.max_depth = max_depth

    # -- text -----------------------------------------------------------------------
    def scan_text(self, text, verdict):
        text, encrypted = strip_pgp_blocks(text)
        if encrypted:
            verdict.encrypted.add("pgp-inline")
        counts = {}
        if self.ssn:
            counts[SSN] = find_ssns(text)
        if self.cards:
            counts[CARD] = find_cards(text)
        for name, regex in self.extra.items():
            counts[name] = sum(1 for _ in regex.finditer(text))
        for kind, count in counts.items():
            if count:
                verdict.findings[kind] = verdict.findings.get(kind, 0) + count

    def scan_text_of(self, text):
        """{kind: count} found in a plain string (used by tests and --check-config)."""
        verdict = Verdict()
        self.scan_text(text, verdict)
        return verdict.findings

    # -- MIME -----------------------------------------------------------------------
    def analyse(self, raw):
        verdict = Verdict()
        try:
            message = email.message_from_bytes(raw, policy=email.policy.compat32)
            subject = subject_text(message.get("Subject"))
            verdict.marked = bool(_MARKER.search(subject))
            self.scan_text(subject, verdict)
            self._walk(message, verdict, 0)
        except (RecursionError, MemoryError, ValueError, TypeError, LookupError, AttributeError, IndexError):
            # A structure the parser cannot walk: scan everything as raw text, so that
            # nothing escapes the scan (fail closed); nothing counts as encrypted.
            fresh = Verdict()
            fresh.fallback = True
            head = raw[:65536].decode("latin-1")
            match = re.search(r"(?im)^subject:(.*)$", head)
            fresh.marked = bool(match and _MARKER.search(subject_text(match.group(1).strip())))
            text = raw[:self.max_part_bytes].decode("latin-1")
            self.scan_text(text, fresh)
            fresh.encrypted.clear()
            fresh.truncated = len(raw) > self.max_part_bytes
            verdict = fresh
        return verdict

    def _payload(self, part, verdict):
        data = part.get_payload(decode=True)
        if data is None:
            payload = part.get_payload()
            data = payload.encode("latin-1", errors="replace") if isinstance(payload, str) else b""
        if len(data) > self.max_part_bytes:
            verdict.truncated = True
            data = data[:self.max_part_bytes]
        return data

    def _walk(self, part, verdict, depth):
        if depth > self.max_depth:
            verdict.truncated = True
            self.scan_text(part.as_bytes(policy=email.policy.compat32).decode("latin-1"), verdict)
            return
        ctype = part.get_content_type()
        if part.is_multipart():
            children = part.get_payload()
            if ctype == "multipart/encrypted" and self._pgp_mime(part, children, verdict):
                return
            for child in children:
                self._walk(child, verdict, depth + 1)
            return
        if ctype in _SIGNATURE_TYPES or ctype == "application/pgp-encrypted":
            return   # detached signatures and the PGP/MIME version part hold no content
        data = self._payload(part, verdict)
        filename = (part.get_filename() or "").lower()
        if ctype in _SMIME_TYPES or filename.endswith((".p7m", ".p7z")):
            oid = cms_content_type(data)
            if oid in (_OID_ENVELOPED, _OID_AUTH_ENVELOPED):
                verdict.encrypted.add("smime")
                return
            if oid == _OID_SIGNED:
                # Signed-data carries its content in clear: scan the bytes as text.
                self.scan_text(data.decode("latin-1"), verdict)
                return
        if pgp_packets_encrypted(data):
            verdict.encrypted.add("pgp-binary")
            return
        extension = filename.rsplit(".", 1)[-1] if "." in filename else ""
        textual = (part.get_content_maintype() == "text" or ctype in _TEXT_TYPES
                   or extension in _TEXT_EXTENSIONS or looks_like_text(data))
        if not textual:
            verdict.unscanned += 1
            return
        text = _decode(data, part.get_content_charset())
        if ctype == "text/html" or extension in ("htm", "html"):
            text = _html_to_text(text)
        self.scan_text(text, verdict)

    def _pgp_mime(self, part, children, verdict):
        """A PGP/MIME message (RFC 3156) whose payload really is OpenPGP encrypted data."""
        protocol = (part.get_param("protocol") or "").lower()
        if protocol != "application/pgp-encrypted" or len(children) != 2:
            return False
        if children[0].get_content_type() != "application/pgp-encrypted":
            return False
        data = self._payload(children[1], verdict)
        text = data.decode("latin-1")
        match = _PGP_BLOCK.search(text)
        encrypted = (match and armored_encrypted(match.group(1))
                     and not text[:match.start()].strip() and not text[match.end():].strip())
        if encrypted or pgp_packets_encrypted(data):
            verdict.encrypted.add("pgp-mime")
            return True
        return False
