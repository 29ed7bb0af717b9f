"""Shared testinfra plumbing for every molecule scenario.

* Hosts are reached with testinfra's podman backend (``podman exec``); containers are
  named ``tm-<scenario>-<role>``, and each scenario's tests ask for them by role through
  the ``hosts`` fixture (``hosts["mail"]``).
* Every check carries ``@pytest.mark.requirement("TM-05", ...)``; a check without one is
  an error, so reports can always map checks to requirements.
* Bad-host pass: with ``TM_EXPECT=bad`` (the scenarios' prepare step sets it after seeding
  a deliberately non-compliant host) the outcome of each requirement check is inverted:
  it passes only if it FAILED on the bad host. A check that passes on a bad host cannot
  see the bad state and is reported as a failure. Checks marked ``positive`` (the server
  works at all) are not run in that pass.
"""

import json
import os

import pytest
import testinfra

# "bad": a working server seeded with a non-compliant configuration;
# "bare": a plain host with nothing installed, where every check must fail.
EXPECT = os.environ.get("TM_EXPECT", "")
if EXPECT not in ("", "bad", "bare"):
    raise pytest.UsageError("TM_EXPECT must be 'bad' or 'bare', not %r" % EXPECT)
REPORT = os.environ.get("TM_REPORT")
RESULTS = []
SEEN_FAILING = []  # (check, why it failed) in a bad- or bare-host pass


class Hosts(dict):
    """Lazy map role -> testinfra host for the current scenario's containers."""

    def __init__(self, scenario):
        super().__init__()
        self.scenario = scenario

    def __missing__(self, role):
        host = testinfra.get_host("podman://tm-%s-%s" % (self.scenario, role))
        self[role] = host
        return host


@pytest.fixture(scope="session")
def scenario():
    name = os.environ.get("TM_SCENARIO") or os.environ.get("MOLECULE_SCENARIO_NAME")
    if not name:
        pytest.exit("MOLECULE_SCENARIO_NAME is not set: run these checks through molecule, or set TM_SCENARIO", returncode=4)
    return name


@pytest.fixture(scope="session")
def hosts(scenario):
    return Hosts(scenario)


def pytest_collection_modifyitems(config, items):
    missing = [item.nodeid for item in items if item.get_closest_marker("requirement") is None]
    if missing:
        raise pytest.UsageError("checks without a requirement marker: %s" % ", ".join(missing))


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
    RESULTS.append({"check": item.nodeid, "requirements": requirements,
                    "outcome": report.outcome if report.when == "call" else "error"})
    if report.when != "call":
        return
    if not EXPECT or (EXPECT == "bad" and item.get_closest_marker("positive")):
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
