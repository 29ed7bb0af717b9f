"""Run the scenario's converge playbook from a check, as molecule runs it, and read its result.

For checks that converge the host again (a hand change undone, a setting switched): the
playbook runs with molecule's inventory and configuration, minus its timing callback, and
the ansible.posix.json callback, so its result can be read task by task.
"""

import json
import os
import subprocess

import pytest


def run_converge(tmp_path, *args):
    """The scenario's converge.yml with extra ARGS; returns (rc, JSON result)."""
    env = dict(os.environ)
    config = env.get("ANSIBLE_CONFIG") or os.path.join(env["MOLECULE_EPHEMERAL_DIRECTORY"], "ansible.cfg")
    quiet = tmp_path / "ansible.cfg"
    with open(config, encoding="utf-8") as handle:
        # molecule's configuration without its timing callback: stdout must be JSON only
        quiet.write_text("".join(line for line in handle if not line.startswith("callbacks_enabled")))
    env.update({"ANSIBLE_CONFIG": str(quiet), "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"})
    run = subprocess.run(
        ["ansible-playbook", "-i", env["MOLECULE_INVENTORY_FILE"],
         os.path.join(env["MOLECULE_SCENARIO_DIRECTORY"], "converge.yml")] + list(args),
        capture_output=True, text=True, env=env, check=False, timeout=900)
    try:
        return run.returncode, json.loads(run.stdout[run.stdout.index("{"):])
    except ValueError:
        pytest.fail("converge.yml %s gave no JSON result (rc %s): %s %s"
                    % (" ".join(args), run.returncode, run.stdout[-2000:], run.stderr[-2000:]))


def changed_tasks(result, host):
    """Task name -> diff text, for every task that reported a change on HOST."""
    changed = {}
    for play in result["plays"]:
        for task in play["tasks"]:
            outcome = task["hosts"].get(host, {})
            if outcome.get("changed"):
                diffs = [outcome.get("diff")] + [item.get("diff") for item in outcome.get("results", []) if isinstance(item, dict)]
                changed[task["task"]["name"].split(" : ")[-1]] = json.dumps([diff for diff in diffs if diff])
    return changed


def summary(result):
    """Per host: changed, failures and unreachable counts."""
    return {host: {key: stats[key] for key in ("changed", "failures", "unreachable")} for host, stats in result["stats"].items()}


def check_first(tmp_path, host):
    """Check mode before a check changes anything: {"before": tasks that would change HOST,
    "before_rc": rc}. Anything in "before" means HOST is not converged (a seeded bad host):
    the check then makes no change and fails through require_converged."""
    rc, result = run_converge(tmp_path, "--check")
    return {"before": changed_tasks(result, host), "before_rc": rc}


def is_converged(found):
    return found["before_rc"] == 0 and not found["before"]


def require_converged(found):
    """Fail the check when check_first found the host not converged."""
    assert is_converged(found), (
        "the host is not as the roles want it: check mode (rc %s) would change %s"
        % (found["before_rc"], ", ".join(sorted(found["before"])) or "nothing, but failed"))
