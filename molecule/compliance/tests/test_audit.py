"""The audit (scripts/tm-audit) against the scenario's four hosts, and its outputs.

One audit run with the active probes (the off-campus host is the probe client) covers:
the converged host passes every requirement the collection implements; the plain host
fails every requirement, each naming what is missing; the partly fixed host shows
exactly its gaps; the off-campus host's TM-02 gap is waived. Then the waiver cases on
the off-campus host, the outputs against the shipped schema, the JUnit XML, and the HTML
page rendered in headless Chromium with a screenshot kept in build/artifacts/compliance.
"""

import datetime
import json
import os
import re
import shutil
import subprocess
from xml.etree import ElementTree

import jsonschema
import pytest
import yaml

PROJECT = os.environ.get("MOLECULE_PROJECT_DIRECTORY", os.path.join(os.path.dirname(__file__), "..", "..", ".."))
AUDIT = os.path.join(PROJECT, "scripts", "tm-audit")
ARTIFACTS = os.path.join(PROJECT, "build", "artifacts", "compliance")
DAY = datetime.date.today()
CONVERGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "converge.yml")


def converged_roles(name):
    """The collection's roles the scenario's converge.yml applies to one host (plays naming it)."""
    with open(CONVERGE, encoding="utf-8") as handle:
        plays = yaml.safe_load(handle)
    roles = set()
    for play in plays:
        if name in re.split(r"[:,]", play.get("hosts", "")):
            for role in play.get("roles", []):
                roles.add(re.sub(r"^stanford\.trusted_mail\.", "", role["role"] if isinstance(role, dict) else role))
    return roles


# The converged host runs exactly the roles converge.yml names for it: the checks of those
# roles (molecule/checks/test_<role>_host.py) must all pass there. Checks of the roles it
# does not run fail on it, and the report says so.
CONVERGED_ROLES = converged_roles("tm-compliance-mail")
CONVERGED_FILES = set("test_%s_host.py" % r for r in CONVERGED_ROLES)
PARTIAL_FILES = set("test_%s_host.py" % r for r in converged_roles("tm-compliance-partial")) | {"test_antivirus_host.py"}
CONTACTS = [{"name": "Test Administrator", "sunetid": "tmadmin", "mobile": "+1 650 555 0100",
             "available_24x7": True, "role": "primary administrator"}]
PROCESS = {"compliance_inventory_review_date": str(DAY - datetime.timedelta(days=20)), "compliance_risk_level": "moderate",
           "compliance_training": [{"name": "Test Administrator", "completed": str(DAY - datetime.timedelta(days=100))}],
           "compliance_location": {"kind": "datacenter", "name": "Test bench data center"}}


def waiver(**change):
    record = {"requirement": "TM-02", "reason": "test host on TEST-NET-2", "risk_analysis": "ISO-RA-TEST-0001",
              "approved_by": "ISO test approver", "approval_date": str(DAY - datetime.timedelta(days=30)),
              "expires": str(DAY + datetime.timedelta(days=300))}
    record.update(change)
    return record


def inventory(path, outside_waivers):
    hosts = {"tm-compliance-%s" % role: {"ansible_connection": "containers.podman.podman",
                                          "ansible_python_interpreter": "/usr/bin/python3",
                                          "compliance_contacts": CONTACTS, **PROCESS}
             for role in ("mail", "plain", "partial", "outside")}
    hosts["tm-compliance-outside"]["compliance_waivers"] = outside_waivers
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"all": {"children": {"trusted_mail": {"hosts": hosts}}}}, handle)
    return path


def tm_audit(tmp, *args, waivers=None):
    inv = inventory(os.path.join(tmp, "inventory.json"), [waiver()] if waivers is None else waivers)
    out = os.path.join(tmp, "report")
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("TM_", "MOLECULE_")))
    run = subprocess.run([AUDIT, "-i", inv, "-o", out] + list(args), capture_output=True, text=True, env=env, check=False)
    with open(os.path.join(out, "report.json"), encoding="utf-8") as handle:
        return run, json.load(handle), out


@pytest.fixture(scope="module")
def audit(tmp_path_factory):
    """One active audit of all four hosts, four at a time."""
    tmp = str(tmp_path_factory.mktemp("audit"))
    run, report, out = tm_audit(tmp, "-j", "4", "--active", "--outside", "tm-compliance-outside")
    os.makedirs(ARTIFACTS, exist_ok=True)
    for name in ("report.json", "report.html", "junit.xml"):
        shutil.copy(os.path.join(out, name), os.path.join(ARTIFACTS, name))
    return run, report, out


def host(report, role):
    return [h for h in report["hosts"] if h["host"] == "tm-compliance-%s" % role][0]


def rows(report, role):
    return dict((r["id"], r) for r in host(report, role)["requirements"])


def checks(report, role, files):
    """{check: (outcome, requirements)} for the checks of the given files that ran on a host."""
    found = {}
    for row in host(report, role)["requirements"]:
        for c in row["checks"]:
            if os.path.basename(c["check"].split("::")[0]) in files and c["outcome"] != "skipped":
                found.setdefault(c["check"], [c["outcome"], set()])[1].add(row["id"])
    return found


@pytest.mark.requirement("TM-02", "TM-03", "TM-04", "TM-05", "TM-07")
@pytest.mark.positive
def test_converged_host_passes_everything_implemented(audit):
    run, report, _ = audit
    mine = checks(report, "mail", CONVERGED_FILES)
    failed = dict((c, v) for c, v in mine.items() if v[0] != "passed")
    assert mine and not failed, failed
    # the active probes ran and passed
    for probe in ("test_eicar_canary_is_held", "test_relay_refused_from_an_outside_host", "test_no_auth_in_clear_over_the_network"):
        assert any(c.endswith("::" + probe) for c in mine), sorted(mine)
    # a requirement is pass exactly when all its checks passed; unchecked ones never pass
    for req, row in rows(report, "mail").items():
        ran = [c for c in row["checks"] if c["outcome"] != "skipped"]
        if ran and req != "TM-01":
            assert (row["status"] == "pass") == all(c["outcome"] == "passed" for c in ran), row
        elif not ran and req != "TM-01":
            assert row["status"] == "nocheck", row
    assert not host(report, "mail")["contacts"]["problems"]
    assert host(report, "mail")["contacts"]["source"].startswith("host record")
    assert run.returncode == (0 if report["status"] == "pass" else 1), run.stdout[-2000:]


@pytest.mark.requirement("TM-01")
def test_checks_of_roles_the_host_does_not_run_fail_and_the_report_says_so(audit):
    """The mail host runs only converge.yml's roles: other roles' failed checks fail their requirements and the host."""
    _, report, _ = audit
    others = {}
    for row in host(report, "mail")["requirements"]:
        for c in row["checks"]:
            if os.path.basename(c["check"].split("::")[0]) not in CONVERGED_FILES and c["outcome"] not in ("passed", "skipped"):
                others.setdefault(row["id"], []).append(c)
    assert others, "no check of the roles the host does not run (%s) failed on it" % ", ".join(sorted(CONVERGED_ROLES))
    for req, failed in others.items():
        row = rows(report, "mail")[req]
        assert row["status"] == "fail" and all(c.get("message") for c in failed), row
    assert host(report, "mail")["status"] == "fail" and report["status"] == "fail"
    assert rows(report, "mail")["TM-01"]["status"] == "fail"


@pytest.mark.requirement("MS-INVENTORY", "MS-TRAINING", "MS-PHYSICAL")
@pytest.mark.positive
def test_process_facts_are_in_the_report(audit):
    """The converged host's report shows its inventory and process facts from its record, all current."""
    _, report, out = audit
    mail = host(report, "mail")
    process = mail["process"]
    assert process["source"].startswith("host record") and not process["problems"], process
    inv = process["inventory"]
    assert inv["fqdn"] == "mail.tm-compliance.stanford.edu" == process["host_facts"]["fqdn"], process
    assert "172.24.77.100" in inv["addresses"] and inv["os"].startswith("Debian 1") and inv["risk_level"] == "moderate"
    assert inv["review_age_days"] == 20 and inv["review_max_days"] == 92, inv
    assert sorted(t["name"] for t in process["training"]) == ["Test Administrator", "Test Backup"]
    assert all(t["current"] for t in process["training"]) and process["location"]["kind"] == "datacenter"
    for req in ("MS-INVENTORY", "MS-TRAINING", "MS-PHYSICAL"):
        assert rows(report, "mail")[req]["status"] == "pass", rows(report, "mail")[req]
    # the plain host has no record: the inventory's facts, the FQDN read from the host, and failed checks
    plain = host(report, "plain")["process"]
    assert plain["source"].startswith("inventory only") and plain["inventory"]["fqdn"] == "plain.tm-compliance.stanford.edu"
    for req in ("MS-INVENTORY", "MS-TRAINING", "MS-PHYSICAL"):
        assert rows(report, "plain")[req]["status"] == "fail", rows(report, "plain")[req]
    with open(os.path.join(out, "report.html"), encoding="utf-8") as handle:
        page = handle.read()
    assert "Server facts" in page and "Test bench data center" in page and "20 days ago" in page


@pytest.mark.requirement("TM-02", "TM-03", "TM-04", "TM-05", "TM-07")
def test_plain_host_fails_every_requirement_naming_what_is_missing(audit):
    _, report, _ = audit
    plain = host(report, "plain")
    assert plain["status"] == "fail"
    for req, row in rows(report, "plain").items():
        assert row["status"] in ("fail", "nocheck"), row
        failed = [c for c in row["checks"] if c["outcome"] not in ("passed", "skipped")]
        assert failed or not [c for c in row["checks"] if c["outcome"] != "skipped"], row
        assert all(c.get("message") for c in failed), failed
    assert any("no compliance record" in c["message"] for c in rows(report, "plain")["TM-03"]["checks"])
    assert plain["contacts"]["source"].startswith("inventory only")


@pytest.mark.requirement("TM-04")
def test_partly_fixed_host_shows_exactly_the_remaining_gaps(audit):
    """MTA and compliance record, no anti-virus: exactly the TM-04 checks fail."""
    _, report, _ = audit
    mine = checks(report, "partial", PARTIAL_FILES)
    wrong = dict((c, v) for c, v in mine.items() if (v[0] != "passed") != ("TM-04" in v[1]))
    assert mine and not wrong, wrong
    assert any(c.endswith("::test_eicar_canary_is_held") for c in mine), sorted(mine)
    assert rows(report, "partial")["TM-04"]["status"] == "fail"
    for req in ("TM-02", "TM-03", "TM-05"):
        assert rows(report, "partial")[req]["status"] == "pass", rows(report, "partial")[req]


@pytest.mark.requirement("TM-02")
def test_valid_waiver_shows_waived_with_its_record(audit):
    _, report, _ = audit
    tm02 = rows(report, "outside")["TM-02"]
    assert tm02["status"] == "waived", tm02
    assert tm02["waivers"][0]["state"] == "valid" and tm02["waivers"][0]["record"]["risk_analysis"] == "ISO-RA-TEST-0001"
    assert rows(report, "outside")["TM-03"]["status"] == "pass", "a TM-02 waiver must not touch TM-03"


@pytest.mark.requirement("TM-02")
@pytest.mark.parametrize("case, waivers, expected", [
    ("expired", [waiver(approval_date=str(DAY - datetime.timedelta(days=400)), expires=str(DAY - datetime.timedelta(days=1)))],
     "expired on"),
    ("unapproved", [waiver(approved_by="")], "is not approved"),
    ("unknown-requirement", [waiver(requirement="TM-10")], "names an unknown requirement"),
    ("other-requirement", [waiver(requirement="TM-03")], "checks failed"),
])
def test_waivers_that_do_not_count_fail(tmp_path, case, waivers, expected):
    run, report, _ = tm_audit(str(tmp_path), "-l", "tm-compliance-outside", "--checks",
                              os.path.join(PROJECT, "molecule", "checks", "test_compliance_host.py"), waivers=waivers)
    outside = host(report, "outside")
    assert run.returncode == 1 and outside["status"] == "fail", run.stdout[-2000:]
    tm02 = rows(report, "outside")["TM-02"]
    text = " ".join([tm02["summary"]] + outside["errors"])
    assert expected in text, (case, text)
    if case != "unknown-requirement":
        assert tm02["status"] == "fail", tm02


@pytest.mark.requirement("TM-02", "TM-03")
@pytest.mark.positive
def test_audit_playbook_judges_each_host_on_its_own_report(tmp_path):
    """playbooks/audit.yml: one tm-audit run for the play's hosts; each host fails with its own gaps, none is lost."""
    tmp = str(tmp_path)
    inv = inventory(os.path.join(tmp, "inventory.json"), [waiver()])
    out = os.path.join(tmp, "report")
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("TM_", "MOLECULE_")))
    # Only the JSON callback on stdout: not molecule's configuration, which adds profile_tasks' lines.
    for name in ("ANSIBLE_CONFIG", "ANSIBLE_CALLBACKS_ENABLED", "ANSIBLE_CALLBACK_WHITELIST"):
        env.pop(name, None)
    env.update({"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_FORKS": "4"})
    run = subprocess.run(["ansible-playbook", "-i", inv, os.path.join(PROJECT, "playbooks", "audit.yml"),
                          "-e", "audit_output_dir=%s" % out], capture_output=True, text=True, env=env, check=False, cwd=tmp)
    assert run.returncode == 2, "the play did not fail for the failing hosts (exit %d): %s" % (run.returncode, run.stderr[-800:])
    result = json.loads(run.stdout)
    tasks = {t["task"]["name"]: t["hosts"] for t in result["plays"][0]["tasks"]}
    [checks_run] = [hosts for name, hosts in tasks.items() if name.startswith("Run the compliance checks")]
    assert len(checks_run) == 1, "tm-audit should run once for the play, not per host: %s" % sorted(checks_run)
    with open(os.path.join(out, "report.json"), encoding="utf-8") as handle:
        report = json.load(handle)
    expected = {h["host"]: sorted(r["id"] for r in h["requirements"] if r["status"] not in ("pass", "waived"))
                for h in report["hosts"]}
    assert sorted(expected) == ["tm-compliance-%s" % r for r in ("mail", "outside", "partial", "plain")], sorted(expected)
    verdicts = tasks["Fail for hosts that do not meet every requirement"]
    for name, gaps in expected.items():
        verdict = verdicts[name]
        if gaps:
            assert verdict.get("failed") and all(i in verdict["msg"] for i in gaps), (name, gaps, verdict.get("msg"))
            named = set(re.findall(r"\b(?:TM|MS)-[A-Z0-9]+\b", verdict["msg"].split(";")[0]))
            assert named == set(gaps), "%s: the play names %s, its report %s" % (name, sorted(named), gaps)
        else:
            assert not verdict.get("failed"), (name, verdict.get("msg"))
    assert any(expected.values()) and result["stats"]["tm-compliance-plain"]["failures"] == 1


@pytest.mark.requirement("TM-02", "TM-03")
@pytest.mark.positive
def test_outputs_follow_the_schema_and_junit(audit):
    _, report, out = audit
    with open(os.path.join(PROJECT, "schemas", "audit-report.schema.json"), encoding="utf-8") as handle:
        schema = json.load(handle)
    jsonschema.validate(report, schema)
    for name in ("mail", "plain", "partial", "outside"):
        with open(os.path.join(out, "hosts", "tm-compliance-%s" % name, "report.json"), encoding="utf-8") as handle:
            jsonschema.validate(json.load(handle), schema)
    suites = ElementTree.parse(os.path.join(out, "junit.xml")).getroot()
    assert sorted(s.get("name") for s in suites.findall("testsuite")) == sorted(h["host"] for h in report["hosts"])
    plain = [s for s in suites.findall("testsuite") if s.get("name") == "tm-compliance-plain"][0]
    assert int(plain.get("failures")) == len(plain.findall("testcase"))


@pytest.mark.requirement("TM-02", "TM-03")
@pytest.mark.positive
def test_html_report_renders_in_headless_chromium(audit):
    _, report, out = audit
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is not installed on this machine (apt-get install chromium)"
    page = "file://" + os.path.abspath(os.path.join(out, "report.html"))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"]
    dom = subprocess.run([chromium] + flags + ["--dump-dom", page], capture_output=True, text=True, timeout=120, check=False)
    assert "tm-compliance-outside" in dom.stdout and "WAIVED" in dom.stdout and "Test Administrator" in dom.stdout, dom.stderr[-1000:]
    shot = os.path.join(ARTIFACTS, "report.png")
    if os.path.exists(shot):
        os.remove(shot)
    subprocess.run([chromium] + flags + ["--window-size=1280,2400", "--screenshot=%s" % shot, page],
                   capture_output=True, text=True, timeout=120, check=False)
    with open(shot, "rb") as handle:
        head = handle.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(head[16:20], "big") == 1280, head
