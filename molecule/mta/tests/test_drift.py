"""TM-04 / TM-05 / TM-07: changes an administrator makes by hand are reported in check mode and undone by converge.

On the converged server, the test first runs the scenario's converge playbook in check
mode: it must report nothing (the host is as the role wants it). It then makes the hand
changes below, runs the playbook with --check --diff (each change must be reported by the
task that owns it, with a diff showing the hand-made value, and still be on the host
afterwards), converges (every change is undone: the settings read back as before), and
runs the playbook once more in check mode (nothing left to change).

On a host that is not converged (the seeded open relay of the prepare step), the first
check-mode run reports that state as drift: the checks fail there, and no hand change is
made and no converge runs. A failure in the middle converges the host again, so the
other checks find it as they expect, whatever the order.
"""

import pytest
from scenario_playbook import changed_tasks, run_converge, summary

HOST = "tm-mta-mail"

# (name, requirement, the hand change, the task that must report it, text its diff must
#  show, a command that reads the setting back)
DRIFTS = [
    ("relay-restrictions-opened", "TM-05",
     "postconf -e smtpd_relay_restrictions=permit",
     "Apply main.cf and master.cf settings that differ | TM-05 TM-07", "smtpd_relay_restrictions = permit",
     "postconf -h smtpd_relay_restrictions"),
    ("submission-tls-optional", "TM-07",
     "postconf -P submission/inet/smtpd_tls_security_level=may",
     "Apply main.cf and master.cf settings that differ | TM-05 TM-07", "submission/inet/smtpd_tls_security_level = may",
     "postconf -P -h submission/inet/smtpd_tls_security_level"),
    ("tls-protocols-loosened", "TM-07",
     "postconf -e 'smtpd_tls_protocols=!SSLv2, !SSLv3'",
     "Apply main.cf and master.cf settings that differ | TM-05 TM-07", "smtpd_tls_protocols = !SSLv2, !SSLv3",
     "postconf -h smtpd_tls_protocols"),
    ("smtp-service-skips-milters", "TM-04",
     "postconf -P smtp/inet/receive_override_options=no_milters",
     "Apply main.cf and master.cf settings that differ | TM-05 TM-07", "receive_override_options",
     "postconf -P -h smtp/inet/receive_override_options 2>/dev/null"),
    ("tls-policy-deleted", "TM-07",
     "rm /etc/postfix/tls_policy",
     "Install the TLS policy for the relayhost | TM-07", "[relay.tm-test.stanford.edu]:25",
     "cat /etc/postfix/tls_policy 2>&1"),
    ("private-key-world-readable", "TM-07",
     "chmod 0644 /etc/ssl/private/tm-test-mail.key",
     "Keep the private key readable by root only | TM-07", "0644",
     "stat -c %a /etc/ssl/private/tm-test-mail.key"),
]


def _settings(mail):
    return {name: mail.run(probe).stdout.strip() for name, _, _, _, _, probe in DRIFTS}


@pytest.fixture(scope="module")
def drift(hosts, tmp_path_factory):
    """The whole sequence, once: check, hand changes, check --diff, converge, check."""
    mail = hosts["mail"]
    tmp_path = tmp_path_factory.mktemp("drift")
    rc, first = run_converge(tmp_path, "--check")
    found = {"before": changed_tasks(first, HOST), "before_rc": rc}
    if rc != 0 or found["before"]:
        # Not a converged host: no hand change on top, no converge.
        return found
    found["settings"] = _settings(mail)
    converged = False
    try:
        for name, _, change, _, _, _ in DRIFTS:
            result = mail.run(change)
            assert result.rc == 0, "the hand change %s failed: %s" % (name, result.stderr)
        found["drifted"] = _settings(mail)
        rc, check = run_converge(tmp_path, "--check", "--diff")
        found.update(check_rc=rc == 0, check=changed_tasks(check, HOST), after_check=_settings(mail))
        rc, converge = run_converge(tmp_path)
        converged = rc == 0
        found.update(converge_rc=rc, converge=changed_tasks(converge, HOST), converge_stats=summary(converge),
                     corrected=_settings(mail))
        rc, again = run_converge(tmp_path, "--check")
        found.update(again_rc=rc, again=changed_tasks(again, HOST))
    finally:
        if not converged:
            run_converge(tmp_path)
    return found


def _require_converged(drift):
    assert drift["before_rc"] == 0 and not drift["before"], (
        "the host is not as the role wants it before any hand change: check mode (rc %s) would change %s"
        % (drift["before_rc"], ", ".join(sorted(drift["before"])) or "nothing, but failed"))


@pytest.mark.requirement("TM-05", "TM-07")
def test_converged_host_shows_no_drift(drift, record_property):
    """Before the hand changes, check mode finds nothing to change."""
    record_property("evidence", "check mode would change: %s" % (", ".join(sorted(drift["before"])) or "nothing"))
    _require_converged(drift)


@pytest.mark.parametrize("index", [pytest.param(index, id=entry[0], marks=pytest.mark.requirement(entry[1]))
                                   for index, entry in enumerate(DRIFTS)])
def test_hand_change_is_reported_corrected_and_stays_corrected(drift, index, record_property):
    """Check mode reports the hand change with its diff and leaves it; converge undoes it."""
    _require_converged(drift)
    name, _, change, task, shown, _ = DRIFTS[index]
    record_property("evidence", "changed by hand: %s; read back %r; check mode reported by %r: %s; after converge %r"
                    % (change, drift["drifted"][name], task, drift["check"].get(task, "nothing")[:300],
                       drift["corrected"][name]))
    assert drift["drifted"][name] != drift["settings"][name], "the hand change %s changed nothing" % change
    assert drift["check_rc"], "check mode failed on the drifted host"
    assert task in drift["check"], "check mode did not report %s (%s); it reported: %s" % (name, task, sorted(drift["check"]))
    assert shown in drift["check"][task], "the diff of %r does not show %r: %s" % (task, shown, drift["check"][task][:1500])
    assert drift["after_check"][name] == drift["drifted"][name], "check mode changed the host (%s)" % name
    assert drift["converge_rc"] == 0, "converge failed on the drifted host: %s" % drift["converge_stats"]
    assert task in drift["converge"], "converge did not correct %s (%s)" % (name, task)
    assert drift["corrected"][name] == drift["settings"][name], (
        "after converge %s reads %r, not %r as before the hand change" % (name, drift["corrected"][name], drift["settings"][name]))


@pytest.mark.requirement("TM-05", "TM-07")
def test_nothing_left_to_change_after_correction(drift, record_property):
    """After the correcting converge, check mode finds nothing more to change."""
    _require_converged(drift)
    record_property("evidence", "check mode after the correction would change: %s" % (", ".join(sorted(drift["again"])) or "nothing"))
    assert drift["again_rc"] == 0 and not drift["again"], "still to change after converge: %s" % sorted(drift["again"])
