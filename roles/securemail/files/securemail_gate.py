#!/usr/bin/python3
# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secure Email gate: a milter that keeps High Risk Data from leaving in clear (TM-09).

    securemail_gate.py --config /etc/trusted-mail/securemail-gate.json
    securemail_gate.py --check-config FILE      validate a configuration and exit

For each message Postfix hands over (SMTP and local mail), the detector
(securemail_detect.py) reports whether the Subject carries the ``Secure:`` marker,
whether the content is encrypted, and which kinds of High Risk Data the clear content
holds. Then:

* marked mail gets the header ``X-Trusted-Mail-Route: secure``; Postfix's
  milter_header_checks send it to the Secure Email relay (this also covers a marker that
  is RFC 2047-encoded, which Postfix's header_checks cannot read);
* High Risk Data in clear, not marked: the configured action: ``reject`` (5.7.1 with the
  reason and how to send it properly), ``hold`` (Postfix's hold queue), or ``route``
  (to the Secure Email relay, like marked mail);
* anything else passes.

Each decision is logged with Postfix's queue ID and the kinds of match, never the data.
Any internal error answers with a temporary failure: the message waits, nothing passes
unchecked (with milter_default_action = tempfail, the same holds when the gate is down).
"""

import argparse
import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import securemail_detect  # noqa: E402  pylint: disable=wrong-import-position

ACTIONS = ("reject", "hold", "route")
ROUTE_HEADER = "X-Trusted-Mail-Route"
REJECT_TEXT = ("This message looks like it holds High Risk Data (%s) and is neither encrypted nor"
               " marked. Send it encrypted (S/MIME or PGP), or put Secure: in the Subject so that"
               " it goes through the University's Secure Email service.")


def load_config(path):
    with open(path, encoding="utf-8") as handle:
        config = json.load(handle)
    problems = []
    if config.get("action") not in ACTIONS:
        problems.append("action must be one of %s" % ", ".join(ACTIONS))
    if not str(config.get("socket", "")).startswith(("unix:", "inet:")):
        problems.append("socket must be unix:PATH or inet:PORT@HOST")
    for key in ("max_message_bytes", "max_part_bytes", "min_matches"):
        if not isinstance(config.get(key), int) or config[key] < 1:
            problems.append("%s must be a positive integer" % key)
    patterns = config.get("extra_patterns", {})
    if not isinstance(patterns, dict):
        problems.append("extra_patterns must map names to regular expressions")
        patterns = {}
    for name, regex in patterns.items():
        if name in (securemail_detect.SSN, securemail_detect.CARD) or not name.replace("-", "").replace("_", "").isalnum():
            problems.append("extra pattern name %r: letters, digits, - and _ only, not ssn or card" % name)
        try:
            securemail_detect.re.compile(regex)
        except (securemail_detect.re.error, TypeError) as err:
            problems.append("extra pattern %s: %s" % (name, err))
    if problems:
        raise ValueError("; ".join(problems))
    return config


def detector_of(config):
    return securemail_detect.Detector(
        ssn=config.get("ssn", True), cards=config.get("cards", True),
        extra_patterns=config.get("extra_patterns", {}), max_part_bytes=config["max_part_bytes"])


def decide(verdict, config):
    """(decision, reply) for a verdict: what the gate does with the message."""
    significant = sum(verdict.findings.values()) >= config["min_matches"]
    if verdict.marked:
        return "route-marked", None
    if significant:
        kinds = ",".join(sorted(verdict.findings))
        if config["action"] == "reject":
            return "reject", REJECT_TEXT % kinds
        return config["action"], None
    if verdict.encrypted:
        return "pass-encrypted", None
    return "pass", None


def log(line):
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def make_milter(config):
    import Milter  # pylint: disable=import-outside-toplevel  (python3-milter, on the server only)

    detector = detector_of(config)
    limit = config["max_message_bytes"]

    class Gate(Milter.Base):
        def __init__(self):  # pylint: disable=super-init-not-called
            self.reset()

        def reset(self):
            self.chunks = []
            self.size = 0
            self.truncated = False

        def add(self, data):
            if self.size + len(data) > limit:
                data = data[:max(0, limit - self.size)]
                self.truncated = True
            self.chunks.append(data)
            self.size += len(data)

        def envfrom(self, mailfrom, *params):
            self.reset()
            return Milter.CONTINUE

        def header(self, name, value):
            if isinstance(value, str):
                value = value.encode("utf-8", "surrogateescape")
            if isinstance(name, str):
                name = name.encode("utf-8", "surrogateescape")
            self.add(name + b": " + value.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + b"\r\n")
            return Milter.CONTINUE

        def eoh(self):
            self.add(b"\r\n")
            return Milter.CONTINUE

        def body(self, chunk):
            self.add(chunk)
            return Milter.CONTINUE

        def eom(self):
            queue_id = self.getsymval("i") or "unknown"
            try:
                verdict = detector.analyse(b"".join(self.chunks))
                verdict.truncated = verdict.truncated or self.truncated
                decision, reply = decide(verdict, config)
                log("queue_id=%s decision=%s %s" % (queue_id, decision, verdict.summary()))
                if decision in ("route-marked", "route"):
                    self.addheader(ROUTE_HEADER, "secure")
                    return Milter.ACCEPT
                if decision == "hold":
                    self.quarantine("High Risk Data (%s), neither encrypted nor marked Secure:"
                                    % ",".join(sorted(verdict.findings)))
                    return Milter.ACCEPT
                if decision == "reject":
                    self.setreply("550", "5.7.1", reply)
                    return Milter.REJECT
                return Milter.ACCEPT
            except Exception as err:  # pylint: disable=broad-except  (fail closed on anything)
                log("queue_id=%s decision=tempfail error=%s" % (queue_id, type(err).__name__))
                self.setreply("451", "4.7.1", "Secure Email gate error, try again later")
                return Milter.TEMPFAIL
            finally:
                self.reset()

        def abort(self):
            self.reset()
            return Milter.CONTINUE

        def close(self):
            self.reset()
            return Milter.CONTINUE

    return Milter, Gate


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="/etc/trusted-mail/securemail-gate.json")
    parser.add_argument("--check-config", metavar="FILE")
    args = parser.parse_args(argv)
    if args.check_config:
        try:
            load_config(args.check_config)
        except (OSError, ValueError) as err:
            print("invalid configuration %s: %s" % (args.check_config, err), file=sys.stderr)
            return 1
        return 0
    config = load_config(args.config)
    Milter, Gate = make_milter(config)
    socket = config["socket"]
    if socket.startswith("unix:") and os.path.exists(socket[5:]):
        os.unlink(socket[5:])
    Milter.factory = Gate
    Milter.set_flags(Milter.ADDHDRS | Milter.QUARANTINE)
    log("starting: socket=%s action=%s kinds=%s" % (
        socket, config["action"], ",".join(
            ([securemail_detect.SSN] if config.get("ssn", True) else [])
            + ([securemail_detect.CARD] if config.get("cards", True) else [])
            + sorted(config.get("extra_patterns", {})))))
    threading.current_thread().name = "securemail-gate"
    Milter.runmilter("securemail-gate", socket, timeout=config.get("timeout", 300))
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
