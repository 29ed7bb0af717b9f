"""Every validated role input, wrong in every way the table knows, is refused before any change.

Runs from the default scenario's prepare step, against its still-fresh mail host. The
cases (inventory_cases.py) come from every role's meta/argument_specs.yml plus the
pre-flights' own rules. ONE run of playbooks/site.yml covers them all: the inventory has
one host per case, every one of them the same container (tm-default-mail) reached through
podman, each with the scenario's valid settings and the one bad setting of its case. The
json callback tells, per inventory host, what failed and with which message.

Each case passes only if its host failed, changed nothing, and said what is wrong (the
variable's name, and the sub-option's); and the container's packages, /etc, the
collection's other paths and unit states must be the same after the run as before.
"""

import copy
import json
import os
import shutil
import subprocess
import time

import pytest
from host_state import snapshot
from inventory_cases import ROLES, all_cases

# Opt-in (make input-table): the table runs about 15 minutes on the shared 2-core CI
# machine, and 65 of its 382 cases still find inputs the roles accept (listed in issue 8's
# notes). It joins the default CI run when both are fixed.
pytestmark = pytest.mark.skipif(os.environ.get("TM_INPUT_TABLE") != "1",
                                reason="the invalid-inventory table is opt-in: TM_INPUT_TABLE=1 (make input-table)")

PROJECT = os.environ.get("MOLECULE_PROJECT_DIRECTORY", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..")))
CASES, REQUIREMENTS = all_cases(PROJECT)
HOST = "tm-default-mail"
# What the roles write outside /etc, and whether units are enabled or masked.
EXTRA_STATE = [
    "find /usr/local /var/lib/trusted-mail /usr/sbin/policy-rc.d -xdev -printf '%p %s %T@ %m\\n' 2>/dev/null | sort",
    "systemctl list-unit-files --no-legend --no-pager | sort",
]


def _inventory_name(index):
    return "case%03d" % index


def _run(command, env, timeout=1800):
    return subprocess.run(command, capture_output=True, text=True, cwd=PROJECT, env=env, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def table(hosts, tmp_path_factory):
    """Run site.yml's input checks once against one inventory host per case; per host: failed?, changed, messages."""
    mail = hosts["mail"]
    work = tmp_path_factory.mktemp("inventory-table")
    env = dict(os.environ)
    base = _run(["ansible-inventory", "-i", env["MOLECULE_INVENTORY_FILE"], "--host", HOST], env)
    assert base.returncode == 0, "cannot read %s's settings: %s" % (HOST, base.stderr[-1000:])
    base = json.loads(base.stdout)
    # Every inventory host is the same container, entered with nsenter (one process per
    # task) rather than podman exec (four per task): the same namespaces, a fraction of the cost.
    pid = _run(["podman", "inspect", "--format", "{{.State.Pid}}", HOST], env)
    assert pid.returncode == 0 and int(pid.stdout) > 1, "cannot find %s's init process: %s" % (HOST, pid.stderr)
    connection = {"ansible_connection": "community.docker.nsenter", "ansible_nsenter_pid": int(pid.stdout)}
    inventory = {}
    for index, (_, _, _, overrides, removed, _) in enumerate(CASES):
        host_vars = copy.deepcopy(base)
        for name in removed:
            host_vars.pop(name, None)
        host_vars.update(copy.deepcopy(overrides))
        host_vars.update(connection)
        inventory[_inventory_name(index)] = host_vars
    (work / "inventory.json").write_text(json.dumps({"trusted_mail": {"hosts": inventory}}))

    # Facts once for the container, copied to every inventory host (they are all the same
    # host): with smart gathering the play then reads them instead of gathering 1 x N times.
    cache = work / "facts"
    env.update({
        "ANSIBLE_CACHE_PLUGIN": "ansible.builtin.jsonfile",
        "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(cache),
        "ANSIBLE_CACHE_PLUGIN_TIMEOUT": "7200",
        "ANSIBLE_GATHERING": "smart",
        "ANSIBLE_FORKS": os.environ.get("TM_TABLE_FORKS", "10"),
        "ANSIBLE_HOST_KEY_CHECKING": "false",
    })
    # Molecule's configuration, without its timing callback (the output must be JSON only).
    config = work / "ansible.cfg"
    with open(env["ANSIBLE_CONFIG"], encoding="utf-8") as handle:
        config.write_text("".join(line for line in handle if not line.startswith("callbacks_enabled")))
    env["ANSIBLE_CONFIG"] = str(config)
    first = _inventory_name(0)
    (work / "facts.yml").write_text(json.dumps([{"name": "Gather the facts once", "hosts": first, "gather_facts": True, "tasks": []}]))
    facts = _run(["ansible-playbook", "-i", str(work / "inventory.json"), str(work / "facts.yml")], env)
    gathered = [path for path in cache.iterdir() if path.name.endswith(first)] if cache.is_dir() else []
    assert facts.returncode == 0 and len(gathered) == 1, "cannot gather the facts of %s: %s" % (HOST, facts.stdout[-1000:])
    for index in range(1, len(CASES)):
        shutil.copy(gathered[0], cache / gathered[0].name.replace(first, _inventory_name(index)))

    before = snapshot(mail, *EXTRA_STATE)
    env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
    started = time.monotonic()
    # Only site.yml's pre_tasks run, where every role's input is checked (argument spec,
    # then tasks/preflight.yml) before any role starts: the roles are skipped by their
    # tags, so an accepted case ends as a host that did not fail (the test fails) instead
    # of going on to converge the shared container.
    run = _run(["ansible-playbook", "-i", str(work / "inventory.json"), os.path.join(PROJECT, "playbooks", "site.yml"),
                "--skip-tags", ",".join(ROLES)], env)
    seconds = time.monotonic() - started
    after = snapshot(mail, *EXTRA_STATE)
    (work / "site.json").write_text(run.stdout)
    try:
        result = json.loads(run.stdout[run.stdout.index("{"):])
    except ValueError:
        pytest.fail("site.yml gave no JSON result (rc %s): %s %s" % (run.returncode, run.stdout[-2000:], run.stderr[-2000:]))
    messages = {name: [] for name in inventory}
    for play in result["plays"]:
        for task in play["tasks"]:
            for name, outcome in task["hosts"].items():
                if outcome.get("failed") or outcome.get("unreachable"):
                    messages[name].append(_message(task["task"]["name"], outcome))
    print("inventory table: %d cases, one site.yml run of %.0f s (rc %s)" % (len(CASES), seconds, run.returncode))
    return {"stats": result["stats"], "messages": messages, "unchanged": before == after, "seconds": seconds}


def _message(task, outcome):
    """The failure's own words: msg, argument errors, and those of failed loop items."""
    parts = [str(outcome.get("msg", ""))] + [str(error) for error in outcome.get("argument_errors", [])]
    for item in outcome.get("results", []):
        if isinstance(item, dict) and item.get("failed"):
            parts.append(str(item.get("msg", "")))
    return "%s: %s" % (task, " ".join(" ".join(parts).split()))


@pytest.mark.parametrize(
    "index",
    [pytest.param(index, id=case[0], marks=pytest.mark.requirement(*REQUIREMENTS[case[1]])) for index, case in enumerate(CASES)])
def test_invalid_inventory_is_refused_before_any_change(table, index, record_property):
    """An invalid role input stops the run with an error that names it, and the host is unchanged."""
    case_id, _, _, overrides, removed, words = CASES[index]
    name = _inventory_name(index)
    stats = table["stats"].get(name, {})
    said = " | ".join(table["messages"][name])
    sent = ("without %s; " % ", ".join(removed) if removed else "") + json.dumps(overrides, sort_keys=True)
    record_property("evidence", "sent %s; the run said: %s" % (sent, said[:600] or "nothing, it went on"))
    assert stats.get("failures", 0) + stats.get("unreachable", 0) > 0, "%s was accepted (%s): %s" % (case_id, sent, stats)
    assert stats.get("changed", 0) == 0, "%s changed %d things before the error" % (case_id, stats["changed"])
    missing = [word for word in words if word not in said]
    assert not missing, "the error of %s does not name %s: %s" % (case_id, ", ".join(missing), said[:1500])
    assert table["unchanged"], "the host changed during the run of the invalid inventories"
