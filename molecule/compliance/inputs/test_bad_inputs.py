"""TM-02 / TM-03 / process facts / waivers: bad input stops the compliance role with a clear error before any change.

Runs from the scenario's prepare step against hosts the role has not touched yet: each
case applies the role (role.yml) with one bad setting; the run must fail with a message
that names the problem, and the host's packages and /etc must be exactly as before.
"""

import datetime
import json
import os
import subprocess

import pytest
from host_state import snapshot

DAY = datetime.date.today()
ADMIN = {"name": "Jane Doe", "sunetid": "jdoe", "mobile": "+1 650 555 0100", "available_24x7": True, "role": "administrator"}


def ago(days):
    return str(DAY - datetime.timedelta(days=days))


def waiver(requirement="TM-02", **change):
    record = {"requirement": requirement, "reason": "test", "risk_analysis": "ISO-RA-TEST-0002",
              "approved_by": "ISO test approver", "approval_date": str(DAY - datetime.timedelta(days=30)),
              "expires": str(DAY + datetime.timedelta(days=30))}
    record.update(change)
    return dict((k, v) for k, v in record.items() if v is not None)


# case: (host role, extra vars, the text the error must contain)
CASES = {
    "contact-without-sunetid-or-email": ("partial", {"compliance_contacts": [dict(ADMIN, sunetid=None)]},
                                         "has neither a SUNet ID nor an e-mail address"),
    "contact-bad-mobile": ("partial", {"compliance_contacts": [dict(ADMIN, mobile="555-0100")]}, "is not a phone number"),
    "contact-bad-sunetid": ("partial", {"compliance_contacts": [dict(ADMIN, sunetid="Jane Doe")]}, "is not 3 to 8 lower-case"),
    "no-contacts": ("partial", {"compliance_contacts": []}, "no administrator contact is recorded"),
    "nobody-24x7": ("partial", {"compliance_contacts": [dict(ADMIN, available_24x7=False)]},
                    "no contact is available 24/7 with a mobile number"),
    "contact-24x7-not-boolean": ("partial", {"compliance_contacts": [dict(ADMIN, available_24x7="sometimes")]},
                                 "unable to convert to bool"),
    "contact-missing-role": ("partial", {"compliance_contacts": [dict((k, v) for k, v in ADMIN.items() if k != "role")]},
                             "missing required arguments: role"),
    "review-date-empty": ("partial", {"compliance_inventory_review_date": ""}, "compliance_inventory_review_date is not set"),
    "review-date-malformed": ("partial", {"compliance_inventory_review_date": "last spring"}, "'last spring' is not a date"),
    "review-date-in-the-future": ("partial", {"compliance_inventory_review_date": ago(-30)}, "is in the future"),
    "review-period-zero": ("partial", {"compliance_inventory_review_max_days": 0}, "must be at least 1 day"),
    "risk-level-unknown": ("partial", {"compliance_risk_level": "extreme"}, "must be one of: low, moderate, high"),
    "no-training": ("partial", {"compliance_training": []}, "compliance_training is empty"),
    "training-without-date": ("partial", {"compliance_training": [{"name": "Jane Doe"}]}, "missing required arguments: completed"),
    "location-unknown-kind": ("partial", {"compliance_location": {"kind": "basement", "name": "Gates"}},
                              "must be one of: datacenter, cloud, office"),
    "waiver-without-expiry": ("partial", {"compliance_waivers": [waiver("MS-2FA", expires=None)]}, "has no expiry"),
    "waiver-unknown-requirement": ("partial", {"compliance_waivers": [waiver("TM-10")]}, "names an unknown requirement"),
    "waiver-over-three-years": ("partial", {"compliance_waivers": [waiver(expires=str(DAY + datetime.timedelta(days=1200)))]},
                                "at most three years"),
    "bad-campus-network": ("partial", {"compliance_campus_networks": ["172.24.0.1/14"]}, "has host bits set"),
    "address-outside-campus": ("outside", {"compliance_waivers": []}, "198.51.100.103 lie outside the campus networks"),
    "expired-waiver-does-not-count": ("outside", {"compliance_waivers": [waiver(
        approval_date=str(DAY - datetime.timedelta(days=400)), expires=str(DAY - datetime.timedelta(days=1)))]},
        "198.51.100.103 lie outside the campus networks"),
    "unapproved-waiver-does-not-count": ("outside", {"compliance_waivers": [waiver(approved_by="")]},
                                         "198.51.100.103 lie outside the campus networks"),
    "waiver-relaxes-only-what-it-names": ("outside", {"compliance_waivers": [waiver("TM-03")]},
                                          "198.51.100.103 lie outside the campus networks"),
}


@pytest.fixture(scope="module")
def before(hosts):
    return {role: snapshot(hosts[role]) for role in ("partial", "outside")}


@pytest.mark.requirement("TM-02", "TM-03", "MS-INVENTORY", "MS-TRAINING", "MS-PHYSICAL")
@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused_before_any_change(hosts, before, case):
    role, extra, expected = CASES[case]
    scenario = os.environ["MOLECULE_SCENARIO_DIRECTORY"]
    run = subprocess.run(
        ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], os.path.join(scenario, "role.yml"),
         "-e", "tm_target=tm-compliance-%s" % role, "-e", json.dumps(extra)],
        capture_output=True, text=True, cwd=os.environ["MOLECULE_PROJECT_DIRECTORY"], check=False)
    output = " ".join((run.stdout + run.stderr).split())
    assert run.returncode != 0, "the run accepted %s:\n%s" % (case, run.stdout[-2000:])
    assert expected in output, "the error does not say what is wrong (%r):\n%s" % (expected, output[-3000:])
    assert snapshot(hosts[role]) == before[role], "the host changed before the error"


@pytest.mark.requirement("TM-02")
@pytest.mark.positive
def test_a_valid_waiver_lets_the_off_campus_host_through_preflight(hosts, before):
    """The same run with the inventory's valid TM-02 waiver passes pre-flight (check mode, preflight only)."""
    scenario = os.environ["MOLECULE_SCENARIO_DIRECTORY"]
    run = subprocess.run(
        ["ansible-playbook", "--check", "--tags", "preflight", "-i", os.environ["MOLECULE_INVENTORY_FILE"],
         os.path.join(scenario, "role.yml"), "-e", "tm_target=tm-compliance-outside"],
        capture_output=True, text=True, cwd=os.environ["MOLECULE_PROJECT_DIRECTORY"], check=False)
    assert run.returncode == 0, run.stdout[-3000:]
    assert snapshot(hosts["outside"]) == before["outside"]


@pytest.mark.requirement("MS-INVENTORY", "MS-TRAINING", "MS-PHYSICAL")
@pytest.mark.positive
def test_stale_process_facts_are_not_refused_at_preflight(hosts, before):
    """A stale review, an expired training and an office location pass pre-flight: the audit reports them."""
    scenario = os.environ["MOLECULE_SCENARIO_DIRECTORY"]
    stale = {"compliance_inventory_review_date": ago(400), "compliance_training": [{"name": "Jane Doe", "completed": ago(800)}],
             "compliance_location": {"kind": "office", "name": "Room 120"}}
    run = subprocess.run(
        ["ansible-playbook", "--check", "--tags", "preflight", "-i", os.environ["MOLECULE_INVENTORY_FILE"],
         os.path.join(scenario, "role.yml"), "-e", "tm_target=tm-compliance-partial", "-e", json.dumps(stale)],
        capture_output=True, text=True, cwd=os.environ["MOLECULE_PROJECT_DIRECTORY"], check=False)
    assert run.returncode == 0, run.stdout[-3000:]
    # ... and the run says what the audit will report
    output = " ".join(run.stdout.split())
    for gap in ("last reviewed on %s, 400 days ago: stale" % ago(400), "Jane Doe: last sysadmin training on %s, 800 days ago" % ago(800),
                "hardware is in an office (Room 120)"):
        assert gap in output, (gap, output[-3000:])
    assert snapshot(hosts["partial"]) == before["partial"]
