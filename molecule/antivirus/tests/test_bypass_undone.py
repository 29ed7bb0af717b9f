"""TM-04: a master.cf service added by hand that takes mail past the scanner is put back under it.

The roles list the services mail enters by (smtp, pickup, cleanup, submission, smtps) and
keep them exactly as listed. This covers one they do not list: an administrator adds an
SMTP service on port 2526 with the milters turned off (an empty smtpd_milters, and
receive_override_options with no_milters, as a content filter's reinjection service has).

On the converged server the test adds that service and shows it really bypasses the
scanner (an EICAR message sent to it reaches the smarthost). Check mode must report the
overrides with a diff and leave them; converge must take them off (no_milters only, the
other word of receive_override_options stays) and reload Postfix, after which an EICAR
message sent to port 2526 is held, not delivered. The service is removed at the end.

On a host that is not converged (the seeded bad state of the prepare step), check mode
reports changes: the checks fail there, and nothing is added or converged.
"""

import time

import pytest
from scenario_playbook import changed_tasks, check_first, is_converged, require_converged, run_converge, summary
from smtp_checks import wait_for

from test_antivirus import delivered, held, marker

HOST = "tm-antivirus-mail"
SERVER = "172.24.77.30"
SERVICE = "2526/inet"
HAND_MADE = ("2526/inet=2526 inet n - y - - smtpd -o smtpd_milters= "
             "-o receive_override_options=no_unknown_recipient_checks,no_milters")
TASK = "Apply main.cf and master.cf settings that differ | TM-05 TM-07"


def _send_eicar(campus, mark):
    cmd = campus.run(
        "tm-sample plain %s 0 > /var/tmp/%s.eml && swaks --timeout 60 --server %s --port 2526 "
        "--from app@campus.stanford.edu --to someone@outside.example.org --data @/var/tmp/%s.eml "
        "--suppress-data 2>&1; rc=$?; rm -f /var/tmp/%s.eml; exit $rc" % (mark, mark, SERVER, mark, mark))
    return cmd.rc, cmd.stdout


def _overrides(mail):
    return mail.run("postconf -P %s 2>/dev/null" % SERVICE).stdout.strip()


@pytest.fixture(scope="module")
def undone(hosts, tmp_path_factory):
    mail, campus = hosts["mail"], hosts["campus"]
    tmp_path = tmp_path_factory.mktemp("bypass")
    found = check_first(tmp_path, HOST)
    if not is_converged(found):
        return found
    try:
        added = mail.run("postconf -M '%s' && postfix reload" % HAND_MADE)
        assert added.rc == 0, added.stderr
        found["hand_made"] = _overrides(mail)
        bypass = marker()
        found["bypass_sent"] = _send_eicar(campus, bypass)
        found["bypass_delivered"] = wait_for(lambda: delivered(campus, bypass), 60)
        rc, check = run_converge(tmp_path, "--check", "--diff")
        found.update(check_rc=rc, check=changed_tasks(check, HOST), after_check=_overrides(mail))
        rc, converge = run_converge(tmp_path)
        found.update(converge_rc=rc, converge=changed_tasks(converge, HOST), converge_stats=summary(converge),
                     corrected=_overrides(mail))
        # A 4xx is the scanner not ready yet (the test before this one restarts clamd): the
        # message waits, as it must. The client sends it again, as a real one would.
        scanned, found["scanned_tries"] = marker(), []
        for _ in range(12):
            found["scanned_sent"] = _send_eicar(campus, scanned)
            if "<** 4" not in found["scanned_sent"][1]:
                break
            found["scanned_tries"].append(found["scanned_sent"][1].split("<** ")[-1].splitlines()[0])
            time.sleep(5)
        wait_for(lambda: held(mail, scanned) or delivered(campus, scanned), 60)
        found["scanner_log"] = mail.run("journalctl -u clamav-daemon -u clamav-milter -n 15 --no-pager").stdout
        found.update(scanned_held=held(mail, scanned), scanned_delivered=delivered(campus, scanned))
        rc, again = run_converge(tmp_path, "--check")
        found.update(again_rc=rc, again=changed_tasks(again, HOST))
    finally:
        mail.run("postconf -MX %s; postfix reload" % SERVICE)
    return found


@pytest.mark.requirement("TM-04")
def test_hand_made_milter_bypass_is_reported_and_undone(undone, record_property):
    require_converged(undone)
    record_property("evidence", "hand-made %s: %r; EICAR through it delivered: %s; check mode: %s; after converge: %r; "
                    "EICAR then held: %s, delivered: %s (4xx before: %s)"
                    % (SERVICE, undone["hand_made"], undone["bypass_delivered"], undone["check"].get(TASK, "nothing")[:300],
                       undone["corrected"], undone["scanned_held"], undone["scanned_delivered"], undone["scanned_tries"]))
    assert undone["bypass_sent"][0] == 0 and undone["bypass_delivered"], (
        "the hand-made service did not take the EICAR message past the scanner, so it proves nothing: %s"
        % undone["bypass_sent"][1][-1000:])
    assert undone["check_rc"] == 0 and TASK in undone["check"], "check mode did not report the bypass: %s" % sorted(undone["check"])
    assert "%s/smtpd_milters" % SERVICE in undone["check"][TASK], undone["check"][TASK][:1500]
    assert undone["after_check"] == undone["hand_made"], "check mode changed the host"
    assert undone["converge_rc"] == 0, "converge failed: %s" % undone["converge_stats"]
    assert undone["corrected"] == "%s/receive_override_options = no_unknown_recipient_checks" % SERVICE, (
        "after converge the service has: %r" % undone["corrected"])
    assert undone["scanned_sent"][0] == 0, "the server did not accept the EICAR message (tries: %s): %s\n%s" % (
        undone["scanned_tries"], undone["scanned_sent"][1][-1000:], undone["scanner_log"])
    assert undone["scanned_held"] and not undone["scanned_delivered"], (
        "after converge an EICAR message through port 2526 was %s" % ("delivered" if undone["scanned_delivered"] else "not held"))
    assert undone["again_rc"] == 0 and not undone["again"], "still to change after converge: %s" % sorted(undone["again"])
