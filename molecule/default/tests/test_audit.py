"""The audit of the converged end-to-end host: every requirement passes.

scripts/tm-audit runs the same host checks as this verify step, against the scenario's
own inventory (the example site's settings), as ISO would audit a registered server. A
requirement with no check counts as not met, so this passes only when the collection
proves all of them on a host site.yml built.
"""

import json
import os
import subprocess

import pytest

PROJECT = os.environ.get("MOLECULE_PROJECT_DIRECTORY", os.path.join(os.path.dirname(__file__), "..", "..", ".."))


@pytest.mark.requirement("TM-01", "TM-02", "TM-03", "TM-04", "TM-05", "TM-06", "TM-07", "TM-08", "TM-09")
def test_audit_passes_every_requirement(tmp_path):
    inventory = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    out = tmp_path / "audit"
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("TM_"))
    run = subprocess.run([os.path.join(PROJECT, "scripts", "tm-audit"), "-q", "-i", inventory, "-l", "tm-default-mail",
                          "-o", str(out)], capture_output=True, text=True, env=env, check=False)
    assert (out / "report.json").exists(), "no audit report: %s %s" % (run.stdout[-500:], run.stderr[-500:])
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    [host] = report["hosts"]
    gaps = ["%s %s: %s" % (r["id"], r["status"], r.get("summary", "")[:300])
            for r in host["requirements"] if r["status"] != "pass"]
    assert not gaps and run.returncode == 0, "audit %s (exit %d): %s" % (host["status"], run.returncode, gaps)
