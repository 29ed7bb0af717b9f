#!/usr/bin/env python3
"""Print a per-requirement summary from the JSON that molecule/conftest.py writes.

    summary.py RESULTS.json [REQUIREMENTS.md]

Exit status 0 when every check passed, 1 otherwise.
"""

import collections
import json
import re
import sys

TITLES = {
    "TM-01": "MinSec moderate-risk server",
    "TM-02": "campus network",
    "TM-03": "24/7 administrator contact",
    "TM-04": "anti-virus with quarantine, daily signatures",
    "TM-05": "no relay of outside mail",
    "TM-06": "MTA logs kept one year",
    "TM-07": "no clear-text passwords",
    "TM-08": "no unnecessary network services",
    "TM-09": "encryption for High Risk Data",
}


def main(argv):
    with open(argv[1], encoding="utf-8") as handle:
        results = json.load(handle)
    by_req = collections.OrderedDict((req, []) for req in TITLES)
    for result in results:
        for req in result["requirements"]:
            by_req.setdefault(req, []).append(result)
    ok = True
    print("%-6s %-45s %s" % ("ID", "requirement", "result"))
    for req, checks in by_req.items():
        if not checks:
            print("%-6s %-45s %s" % (req, TITLES.get(req, ""), "not checked yet (no role implements it)"))
            continue
        failed = [c for c in checks if c["outcome"] != "passed"]
        ok = ok and not failed
        print("%-6s %-45s %s" % (req, TITLES.get(req, ""),
                                  "PASS (%d checks)" % len(checks) if not failed else
                                  "FAIL (%d of %d checks)" % (len(failed), len(checks))))
        for check in failed:
            print("         failed: %s" % re.sub(r"^.*::", "", check["check"]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
