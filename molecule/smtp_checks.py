"""Helpers for checks that hold real SMTP sessions from a test container.

Sessions run *inside* a client container (swaks, openssl, Python's smtplib there), so
the server sees the client's own address: campus or outside.
"""

import json
import shlex
import time
import uuid

# A tiny SMTP client run with the container's python3: it speaks exactly the commands
# asked for, so the checks can send AUTH where a polite client would refuse to.
_SESSION = r'''
import base64, json, smtplib, ssl, sys
a = json.loads(sys.argv[1])
out = {}
ctx = ssl.create_default_context(cafile=a.get("cafile")) if a.get("cafile") else ssl._create_unverified_context()
try:
    if a.get("implicit_tls"):
        s = smtplib.SMTP_SSL(a["server"], a["port"], timeout=30, context=ctx)
    else:
        s = smtplib.SMTP(a["server"], a["port"], timeout=30)
    code, msg = s.ehlo("client.test")
    out["ehlo"] = msg.decode(errors="replace")
    if a.get("starttls"):
        code, msg = s.starttls(context=ctx)
        out["starttls"] = code
        code, msg = s.ehlo("client.test")
        out["ehlo_tls"] = msg.decode(errors="replace")
    if a.get("auth"):
        token = base64.b64encode(("\0%s\0%s" % (a["auth"][0], a["auth"][1])).encode()).decode()
        code, msg = s.docmd("AUTH", "PLAIN " + token)
        out["auth"] = [code, msg.decode(errors="replace")]
    s.quit()
except Exception as exc:
    out["error"] = "%s: %s" % (type(exc).__name__, exc)
print(json.dumps(out))
'''


def session(client, server, port=25, starttls=False, implicit_tls=False, auth=None, cafile=None):
    """Run one SMTP session from ``client`` and return what the server answered."""
    args = json.dumps({"server": server, "port": port, "starttls": starttls,
                       "implicit_tls": implicit_tls, "auth": auth, "cafile": cafile})
    cmd = client.run("python3 -c %s %s" % (shlex.quote(_SESSION), shlex.quote(args)))
    assert cmd.rc == 0, cmd.stderr
    return json.loads(cmd.stdout)


def swaks(client, *args):
    """Run swaks in ``client``; return (exit code, transcript)."""
    cmd = client.run("swaks --timeout 30 %s 2>&1" % " ".join(shlex.quote(a) for a in args))
    return cmd.rc, cmd.stdout


def reply_to(transcript, command):
    """The server's reply code to the first client line starting with ``command``."""
    lines = transcript.splitlines()
    for i, line in enumerate(lines):
        if line.lstrip(" -~>*").startswith(command):
            for reply in lines[i + 1:]:
                text = reply.lstrip(" <~*-")
                if text[:3].isdigit() and (reply.lstrip().startswith("<") or reply.lstrip().startswith("<~")):
                    return int(text[:3])
            break
    return None


def tag():
    """A unique marker to find one test's message at the sink."""
    return "tm-" + uuid.uuid4().hex


def wait_for(predicate, timeout, interval=1.0):
    """Poll ``predicate`` until it is true or ``timeout`` seconds have passed; its last value."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
