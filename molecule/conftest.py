"""Shared testinfra plumbing for every molecule scenario.

* Hosts are reached with testinfra's podman backend, each command entered through
  nsenter rather than ``podman exec`` (nsenter_backend.py: the same view of the
  container, a fraction of the cost; podman exec when nsenter cannot be used); containers are
  named ``tm-<scenario>-<role>``, and each scenario's tests ask for them by role through
  the ``hosts`` fixture (``hosts["mail"]``).
* Audit of any inventory host (scripts/tm-audit, playbooks/audit.yml): with
  ``TM_AUDIT_INVENTORY`` and ``TM_AUDIT_HOST`` set, ``hosts["mail"]`` is that inventory
  host, reached the way the inventory says (testinfra's ansible backend; podman
  connections through the podman backend above), and ``hosts["outside"]`` is ``TM_AUDIT_OUTSIDE``
  when given (an off-campus host for active probes). The same checks serve both.
* Checks marked ``active`` (probes that send traffic: EICAR canary, relay and AUTH
  probes) run only with ``TM_AUDIT_ACTIVE=1``; otherwise they are skipped and not
  reported.
* Every check carries ``@pytest.mark.requirement("TM-05", ...)``; a check without one is
  an error, so reports can always map checks to requirements.
* Bad-host pass: with ``TM_EXPECT=bad`` (the scenarios' prepare step sets it after seeding
  a deliberately non-compliant host) the outcome of each requirement check is inverted:
  it passes only if it FAILED on the bad host. A check that passes on a bad host cannot
  see the bad state and is reported as a failure. Checks marked ``positive`` (the server
  works at all) are not inverted: they must pass on the bad host, and are skipped on a
  bare one (``TM_EXPECT=bare``), where they prove nothing either way.
"""

import json
import os
import subprocess

import nsenter_backend  # podman:// through nsenter, and host_for
import pytest
import testinfra

# "bad": a working server seeded with a non-compliant configuration;
# "bare": a plain host with nothing installed, where every check must fail.
EXPECT = os.environ.get("TM_EXPECT", "")
if EXPECT not in ("", "bad", "bare"):
    raise pytest.UsageError("TM_EXPECT must be 'bad' or 'bare', not %r" % EXPECT)
REPORT = os.environ.get("TM_REPORT")
AUDIT_INVENTORY = os.environ.get("TM_AUDIT_INVENTORY")
AUDIT_HOST = os.environ.get("TM_AUDIT_HOST")
ACTIVE = os.environ.get("TM_AUDIT_ACTIVE", "") == "1"
RESULTS = []
SEEN_FAILING = []  # (check, why it failed) in a bad- or bare-host pass


class Hosts(dict):
    """Lazy map role -> testinfra host for the current scenario's containers."""

    def __init__(self, scenario):
        super().__init__()
        self.scenario = scenario

    def __missing__(self, role):
        name = "tm-%s-%s" % (self.scenario, role)
        if role == "outside" and subprocess.run(["podman", "container", "exists", name], check=False).returncode != 0:
            pytest.skip("no off-campus host (%s) in this scenario" % name)
        host = testinfra.get_host("podman://%s" % name)
        self[role] = host
        return host


def inventory_host(inventory, name):
    """A testinfra host for an inventory host, reached as the inventory says.

    tm-audit passes the audited host's connection variables (TM_AUDIT_HOST_REACH, read
    from its one inventory listing); any other host's are read from the inventory here.
    """
    reach = os.environ.get("TM_AUDIT_HOST_REACH", "")
    if name == AUDIT_HOST and reach:
        hostvars = json.loads(reach)
    else:
        out = subprocess.run(["ansible-inventory", "-i", inventory, "--host", name],
                             capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise pytest.UsageError("host %s is not in %s: %s" % (name, inventory, out.stderr.strip()[-300:]))
        hostvars = json.loads(out.stdout)
    return nsenter_backend.host_for(inventory, name, hostvars)


class AuditHosts(dict):
    """Audit mode: "mail" is the audited inventory host, "outside" the optional probe host."""

    def __missing__(self, role):
        names = {"mail": AUDIT_HOST, "outside": os.environ.get("TM_AUDIT_OUTSIDE")}
        if not names.get(role):
            pytest.skip("no %s host in this audit (TM_AUDIT_OUTSIDE names an off-campus host)" % role)
        host = inventory_host(AUDIT_INVENTORY, names[role])
        self[role] = host
        return host


@pytest.fixture(scope="session")
def scenario():
    if AUDIT_INVENTORY:
        return "audit"
    name = os.environ.get("TM_SCENARIO") or os.environ.get("MOLECULE_SCENARIO_NAME")
    if not name:
        pytest.exit("MOLECULE_SCENARIO_NAME is not set: run these checks through molecule, or set TM_SCENARIO", returncode=4)
    return name


@pytest.fixture(scope="session")
def hosts(scenario):
    if AUDIT_INVENTORY:
        if not AUDIT_HOST:
            pytest.exit("TM_AUDIT_INVENTORY is set but TM_AUDIT_HOST is not", returncode=4)
        return AuditHosts()
    return Hosts(scenario)


def pytest_configure(config):
    config.addinivalue_line("markers", "active: a probe that sends traffic (run only with TM_AUDIT_ACTIVE=1)")


def pytest_collection_modifyitems(config, items):
    missing = [item.nodeid for item in items if item.get_closest_marker("requirement") is None]
    if missing:
        raise pytest.UsageError("checks without a requirement marker: %s" % ", ".join(missing))
    if not ACTIVE:
        skip = pytest.mark.skip(reason="active probe: set TM_AUDIT_ACTIVE=1 (tm-audit --active)")
        for item in items:
            if item.get_closest_marker("active"):
                item.add_marker(skip)
    if EXPECT == "bare":
        # "The server works at all" (a supported release, something on port 25) may be
        # true of a plain host too: such checks are evidence only on a converged host.
        # So may what Debian's own defaults already meet (debian_default): those checks
        # are seen failing on their scenario's seeded bad host instead.
        skip = pytest.mark.skip(reason="positive or Debian-default check: no evidence on a bare host")
        for item in items:
            if item.get_closest_marker("positive") or item.get_closest_marker("debian_default"):
                item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    requirements = list(item.get_closest_marker("requirement").args)
    ids = ",".join(requirements)
    report.user_properties.append(("requirement", ids))
    if report.when != "call" and not report.failed:
        return
    # A failed setup (broken fixture, unreachable host) counts against the check too.
    result = {"check": item.nodeid, "requirements": requirements,
              "outcome": report.outcome if report.when == "call" else "error",
              "title": (item.function.__doc__ or "").strip().split("\n")[0] if hasattr(item, "function") else ""}
    if report.failed:
        crash = getattr(report.longrepr, "reprcrash", None)
        text = crash.message if crash else str(report.longrepr)
        # the assertion's own message, without pytest's "assert ... where ..." explanation
        text = text.split("\nassert ")[0] if "\nassert " in text else text
        result["message"] = " ".join(text.split())[:600]
    # Checks tell what they saw with record_property("evidence", ...).
    evidence = [str(value) for name, value in item.user_properties if name == "evidence"]
    if evidence:
        result["evidence"] = "; ".join(evidence)[:1000]
    RESULTS.append(result)
    if not EXPECT or (EXPECT == "bad" and item.get_closest_marker("positive")):
        return
    if report.when == "setup" and call.excinfo is not None and call.excinfo.errisinstance(AssertionError):
        # A fixture's assert (e.g. "sshd -T failed: is openssh-server installed?") means
        # the host lacks what the check reads: the check failed, and that is the evidence.
        # Any other setup error stays an error.
        SEEN_FAILING.append((item.nodeid, "(setup) " + " ".join(str(call.excinfo.value).split())[:190]))
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, "failed in setup, as expected on this host")
        return
    if report.when != "call":
        return
    if report.failed:
        reason = report.longrepr.reprcrash.message if hasattr(report.longrepr, "reprcrash") else str(report.longrepr)
        SEEN_FAILING.append((item.nodeid, reason.strip().splitlines()[0][:200] if reason.strip() else "?"))
        report.outcome = "passed"
        report.longrepr = None
    elif report.passed:
        report.outcome = "failed"
        report.longrepr = (
            "%s (%s) PASSED on a host seeded with the bad state: this check cannot detect it" % (item.nodeid, ids)
        )


def pytest_terminal_summary(terminalreporter):
    if SEEN_FAILING:
        terminalreporter.section("checks seen failing on the %s host, and why" % EXPECT)
        for nodeid, reason in SEEN_FAILING:
            terminalreporter.line("%s: %s" % (nodeid.split("::", 1)[-1], reason))


def pytest_sessionfinish(session):
    if REPORT:
        with open(REPORT, "w", encoding="utf-8") as handle:
            json.dump(RESULTS, handle, indent=1)
