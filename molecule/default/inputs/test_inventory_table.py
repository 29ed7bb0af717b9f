"""Every validated role input, wrong in every way the table knows, is refused before any change.

Runs from the default scenario's prepare step, against its still-fresh mail host. The
cases (inventory_cases.py) come from every role's meta/argument_specs.yml plus the
pre-flights' own rules. ONE ansible-playbook run covers them all: the inventory has one
host per case, every one of them the same container (tm-default-mail), each with the
scenario's valid settings and the one bad setting of its case. The json callback tells,
per inventory host, what failed and with which message.

The play is playbooks/site.yml's own play, read from the file, with one change: its
pre-flight loop runs, for each inventory host, the pre-flight of the case's role only
(site.yml runs all seven in turn, so a case of the last role paid for the six before it,
the same on every host; that was three quarters of the table's time). Control hosts
with the valid settings alone prove each role's pre-flight passes on its own, and all
seven in site.yml's order, so every case fails because of its one setting. That site.yml
runs every pre-flight before any role starts is proven by test_bad_inputs.py, which runs
site.yml unchanged.

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
import yaml
from host_state import snapshot
from inventory_cases import ROLES, all_cases

# Part of every default-scenario run (about 2 minutes: 385 cases in one run of 80 to 120 s
# on the shared 2-core machine); TM_INPUT_TABLE=0 skips it for a quick local prepare.
pytestmark = pytest.mark.skipif(os.environ.get("TM_INPUT_TABLE") == "0",
                                reason="the invalid-inventory table is skipped: TM_INPUT_TABLE=0")

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


def _control_name(role):
    return "valid_%s" % (role or "all")


def _table_play(work):
    """site.yml's play, its pre-flight loop over each host's tm_table_roles instead of every role."""
    with open(os.path.join(PROJECT, "playbooks", "site.yml"), encoding="utf-8") as handle:
        plays = yaml.safe_load(handle)
    assert len(plays) == 1, "site.yml has %d plays; the table knows one" % len(plays)
    preflights = [task for task in plays[0]["pre_tasks"] if task.get("loop_control", {}).get("loop_var") == "_tm_role"]
    assert len(preflights) == 1 and preflights[0]["loop"] == ROLES, (
        "site.yml's pre-flight loop is not %s (inventory_cases.ROLES): update the table" % ROLES)
    preflights[0]["loop"] = "{{ tm_table_roles }}"
    path = work / "site-table.yml"
    path.write_text(yaml.safe_dump(plays, sort_keys=False))
    return path


def _run(command, env, timeout=1800):
    return subprocess.run(command, capture_output=True, text=True, cwd=PROJECT, env=env, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def table(hosts, tmp_path_factory, request):
    """Run the input checks once against one inventory host per case (and the controls); per host: failed?, changed, messages."""
    mail = hosts["mail"]
    # Only the cases this session runs (all of them, or those `pytest -k` selected).
    selected = sorted({item.callspec.params["index"] for item in request.session.items
                       if item.originalname == "test_invalid_inventory_is_refused_before_any_change"})
    work = tmp_path_factory.mktemp("inventory-table")
    env = dict(os.environ)
    base = _run(["ansible-inventory", "-i", env["MOLECULE_INVENTORY_FILE"], "--host", HOST], env)
    assert base.returncode == 0, "cannot read %s's settings: %s" % (HOST, base.stderr[-1000:])
    base = json.loads(base.stdout)
    # Every inventory host is the same container, entered with nsenter (one process per
    # command) rather than podman exec: the same namespaces, a fraction of the cost.
    # (Pipelining, which would pass each module in one command instead of five, was
    # measured: no gain, the run is bound by the controller's work per host and task.)
    pid = _run(["podman", "inspect", "--format", "{{.State.Pid}}", HOST], env)
    assert pid.returncode == 0 and int(pid.stdout) > 1, "cannot find %s's init process: %s" % (HOST, pid.stderr)
    connection = {"ansible_connection": "community.docker.nsenter", "ansible_nsenter_pid": int(pid.stdout)}
    inventory = {}
    for index in selected:
        _, role, _, overrides, removed, _ = CASES[index]
        host_vars = copy.deepcopy(base)
        for name in removed:
            host_vars.pop(name, None)
        host_vars.update(copy.deepcopy(overrides))
        host_vars.update(connection, tm_table_roles=[role])
        inventory[_inventory_name(index)] = host_vars
    # The controls: the valid settings alone pass each role's pre-flight, and all of them in turn.
    for role in ROLES + [None]:
        inventory[_control_name(role)] = dict(copy.deepcopy(base), tm_table_roles=[role] if role else ROLES, **connection)
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
    first = _control_name(None)
    (work / "facts.yml").write_text(json.dumps([{"name": "Gather the facts once", "hosts": first, "gather_facts": True, "tasks": []}]))
    facts = _run(["ansible-playbook", "-i", str(work / "inventory.json"), str(work / "facts.yml")], env)
    gathered = [path for path in cache.iterdir() if path.name.endswith(first)] if cache.is_dir() else []
    assert facts.returncode == 0 and len(gathered) == 1, "cannot gather the facts of %s: %s" % (HOST, facts.stdout[-1000:])
    for name in inventory:
        if name != first:
            shutil.copy(gathered[0], cache / gathered[0].name.replace(first, name))

    before = snapshot(mail, *EXTRA_STATE)
    env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
    started = time.monotonic()
    # Only the play's pre_tasks run, where the inputs are checked (argument spec, then
    # tasks/preflight.yml): the roles are skipped by their tags, so an accepted case ends
    # as a host that did not fail (the test fails) instead of going on to converge the
    # shared container.
    run = _run(["ansible-playbook", "-i", str(work / "inventory.json"), str(_table_play(work)),
                "--skip-tags", ",".join(ROLES)], env)
    seconds = time.monotonic() - started
    after = snapshot(mail, *EXTRA_STATE)
    (work / "site.json").write_text(run.stdout)
    try:
        result = json.loads(run.stdout[run.stdout.index("{"):])
    except ValueError:
        pytest.fail("the table's run gave no JSON result (rc %s): %s %s" % (run.returncode, run.stdout[-2000:], run.stderr[-2000:]))
    messages = {name: [] for name in inventory}
    for play in result["plays"]:
        for task in play["tasks"]:
            for name, outcome in task["hosts"].items():
                if outcome.get("failed") or outcome.get("unreachable"):
                    messages[name].append(_message(task["task"]["name"], outcome))
    print("inventory table: %d cases, one run of %.0f s (rc %s)" % (len(selected), seconds, run.returncode))
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


EVERY_REQUIREMENT = sorted({requirement for ids in REQUIREMENTS.values() for requirement in ids})


@pytest.mark.parametrize(
    "role", [pytest.param(role, id=role or "all", marks=pytest.mark.requirement(*(REQUIREMENTS[role] if role else EVERY_REQUIREMENT)))
             for role in ROLES + [None]])
def test_valid_inventory_passes_the_preflight(table, role, record_property):
    """The scenario's valid settings pass the role's pre-flight on its own (and all of them in site.yml's order)."""
    name = _control_name(role)
    stats = table["stats"].get(name, {})
    said = " | ".join(table["messages"][name])
    record_property("evidence", "the run said: %s" % (said[:600] or "nothing, it passed"))
    assert stats.get("ok", 0) > 0 and stats.get("failures", 0) + stats.get("unreachable", 0) == 0, (
        "the valid settings did not pass the pre-flight of %s: %s %s" % (role or "every role", stats, said[:1500]))
    assert stats.get("changed", 0) == 0, "the pre-flight of %s changed %d things" % (role or "every role", stats["changed"])
