"""TM-05: a converge that changes Postfix's configuration reloads it, and keeps mail flowing.

Postfix restarts end every SMTP session in progress; a reload lets each one finish under
the settings it started with. The role reloads, and restarts only when the daemon is down
or a setting it reads at start changed (inet_interfaces, inet_protocols, ...).

On the converged server the test holds an SMTP session open from the campus client (a
transient unit there: greeting, MAIL, RCPT, then a wait), converges with a new SMTP
banner, and then finishes the session with DATA. The session must end with 250, the
message must reach the campus smarthost, the master daemon must be the same process, and
a new connection must get the new banner. A second converge changes inet_protocols: the
master daemon must be a new process. A third converge restores the scenario's settings
(again a restart, since inet_protocols changes back).

On a host that is not converged (the seeded open relay of the prepare step), check mode
reports changes: the checks fail there, and no converge runs.
"""

import json
import shlex

import pytest
from scenario_playbook import changed_tasks, check_first, is_converged, require_converged, run_converge, summary
from smtp_checks import tag, wait_for

from test_relay import sink_has

HOST = "tm-mta-mail"
SERVER_CAMPUS = "172.24.77.10"
MASTER_PID = "sed -n 1p /var/spool/postfix/pid/master.pid"

# Run on the campus client as a transient unit: opens the session, says so, waits for
# the go file, then sends the message and records every reply.
_HELD_SESSION = r'''
import json, os, smtplib, sys, time
server, marker, go, out = sys.argv[1:5]
result = {}
try:
    s = smtplib.SMTP(server, 25, timeout=120)
    result["ehlo"] = s.ehlo("held.test")[0]
    result["mail"] = s.mail("app@campus.stanford.edu")[0]
    result["rcpt"] = s.rcpt("someone@outside.example.org")[0]
    open(out + ".open", "w").close()
    deadline = time.time() + 240
    while not os.path.exists(go) and time.time() < deadline:
        time.sleep(0.2)
    code, msg = s.data("X-TM-Test: %s\r\nSubject: held across a converge\r\n\r\nheld\r\n" % marker)
    result["data"] = [code, msg.decode(errors="replace")]
    s.quit()
except Exception as exc:
    result["error"] = "%s: %s" % (type(exc).__name__, exc)
with open(out, "w") as handle:
    json.dump(result, handle)
'''

_GREETING = ("import smtplib; s = smtplib.SMTP(timeout=30); "
             "print(s.connect(%r, 25)[1].decode()); s.quit()" % SERVER_CAMPUS)


def _vars(**extra):
    # The scenario's own mta_main_cf (converge.yml) plus EXTRA main.cf settings.
    return json.dumps({"mta_main_cf": dict({"smtp_host_lookup": "native"}, **extra)})


def _master(mail):
    return mail.run(MASTER_PID).stdout.strip()


def _handlers(result):
    changed = changed_tasks(result, HOST)
    return sorted(name for name in ("Reload Postfix", "Restart Postfix") if name in changed)


@pytest.fixture(scope="module")
def applied(hosts, tmp_path_factory):
    """The whole sequence, once: check, converge with a session held open, then a restart."""
    mail, campus = hosts["mail"], hosts["campus"]
    tmp_path = tmp_path_factory.mktemp("apply")
    found = check_first(tmp_path, HOST)
    if not is_converged(found):
        return found
    marker = tag()
    banner = "$myhostname ESMTP %s" % marker
    work = "/run/tm-held-%s" % marker
    script = "%s.py" % work
    restored = False
    try:
        assert campus.run("printf %%s %s > %s" % (shlex.quote(_HELD_SESSION), script)).rc == 0
        unit = campus.run("systemd-run --unit tm-held-%s --collect python3 %s %s %s %s.go %s.json"
                          % (marker, script, SERVER_CAMPUS, marker, work, work))
        assert unit.rc == 0, unit.stderr
        found["opened"] = wait_for(lambda: campus.file(work + ".json.open").exists
                                   or campus.file(work + ".json").exists, 60, 0.2)
        found["master_before"] = _master(mail)
        rc, reload_run = run_converge(tmp_path, "-e", _vars(smtpd_banner=banner))
        found.update(reload_rc=rc, reload_stats=summary(reload_run), reload_handlers=_handlers(reload_run),
                     master_after_reload=_master(mail))
        campus.run("touch %s.go" % work)
        wait_for(lambda: campus.file(work + ".json").exists, 120, 0.5)
        outcome = campus.run("cat %s.json" % work)
        found["session"] = json.loads(outcome.stdout) if outcome.rc == 0 else {"error": "no result: %s" % outcome.stderr}
        found["delivered"] = "data" in found["session"] and sink_has(campus, marker, 60)
        found["greeting"] = campus.run("python3 -c %s" % shlex.quote(_GREETING)).stdout.strip()
        found["expected_greeting"] = banner.replace("$myhostname", "mail.tm-test.stanford.edu")

        rc, restart_run = run_converge(tmp_path, "-e", _vars(), "-e", json.dumps({"mta_inet_protocols": "ipv4"}))
        found.update(restart_rc=rc, restart_stats=summary(restart_run), restart_handlers=_handlers(restart_run),
                     master_after_restart=_master(mail))
        rc, back = run_converge(tmp_path)
        restored = rc == 0
        found.update(back_rc=rc, back_handlers=_handlers(back))
    finally:
        campus.run("touch %s.go; rm -f %s" % (work, script))
        if not restored:
            run_converge(tmp_path)
    return found


@pytest.mark.requirement("TM-05")
def test_a_configuration_change_reloads_and_keeps_sessions_in_progress(applied, record_property):
    """A session open across the converge delivers its message; the new banner is in effect."""
    require_converged(applied)
    record_property("evidence", "handlers %s; master %s -> %s; held session %s; delivered %s; new greeting %r"
                    % (applied["reload_handlers"], applied["master_before"], applied["master_after_reload"],
                       applied["session"], applied["delivered"], applied["greeting"]))
    assert applied["opened"], "the held session never got past RCPT: %s" % applied.get("session")
    assert applied["reload_rc"] == 0, "converge failed: %s" % applied["reload_stats"]
    assert applied["reload_handlers"] == ["Reload Postfix"], (
        "the banner change ran %s, not a reload alone" % (applied["reload_handlers"] or "no handler"))
    assert applied["session"].get("data", [0])[0] == 250, "the session open across the converge: %s" % applied["session"]
    assert applied["delivered"], "the message of the held session did not reach the smarthost"
    assert applied["master_after_reload"] == applied["master_before"], "the master daemon was replaced (restarted)"
    assert applied["greeting"] == applied["expected_greeting"], (
        "a new connection after the reload got %r, not the new banner %r" % (applied["greeting"], applied["expected_greeting"]))


@pytest.mark.requirement("TM-05")
def test_a_change_read_only_at_start_restarts(applied, record_property):
    """inet_protocols changes: Postfix is restarted (a new master daemon), and so when it changes back."""
    require_converged(applied)
    record_property("evidence", "inet_protocols=ipv4: handlers %s, master %s -> %s; back: handlers %s"
                    % (applied["restart_handlers"], applied["master_after_reload"], applied["master_after_restart"],
                       applied["back_handlers"]))
    assert applied["restart_rc"] == 0, "converge failed: %s" % applied["restart_stats"]
    assert applied["restart_handlers"] == ["Restart Postfix"], "inet_protocols changed: ran %s" % applied["restart_handlers"]
    assert applied["master_after_restart"] != applied["master_after_reload"], "the master daemon is the same process"
    assert applied["back_rc"] == 0 and applied["back_handlers"] == ["Restart Postfix"], (
        "converge back to the scenario's settings: rc %s, ran %s" % (applied["back_rc"], applied["back_handlers"]))
