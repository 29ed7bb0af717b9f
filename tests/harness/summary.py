#!/usr/bin/env python3
"""Print a per-requirement summary from the JSON that molecule/conftest.py writes
(TM_REPORT: a list of check results), or from an audit report (scripts/tm-audit's
report.json: requirements with pass / fail / waived / no check, contacts, the inventory and
process facts, and waivers).

    summary.py RESULTS.json|report.json

Exit status 0 when no check failed (and, for an audit report, no requirement failed;
requirements no check proves yet are shown, not counted), 1 otherwise.
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


def process_lines(process):
    """The inventory and process facts of a host (MS-INVENTORY, MS-TRAINING, MS-PHYSICAL), as lines."""
    if not process:
        return []
    inv = process["inventory"]
    lines = ["server: %s; %s; %s; risk level %s (facts from %s)" % (
        inv["fqdn"] or "no FQDN", ", ".join(inv["addresses"]) or "no addresses", inv["os"] or "no OS",
        inv["risk_level"] or "not recorded", process["source"])]
    lines.append("inventory review: %s" % ("%s, %s days ago (stale after %s)" % (
        inv["review_date"], inv["review_age_days"], inv["review_max_days"]) if inv["review_date"] else "not recorded"))
    for training in process["training"] or [{}]:
        lines.append("training: %s" % ("%s, %s, %s days ago%s" % (
            training["name"], training["completed"], training["age_days"], "" if training["current"] else ", OVERDUE")
            if training else "not recorded"))
    location = process["location"]
    lines.append("location: %s" % ("%s, %s" % (location["kind"], location["name"]) if location else "not recorded"))
    lines.extend("fact problem: %s" % problem for problem in process["problems"])
    return lines


def audit_summary(report):
    ok = True
    for host in report["hosts"]:
        print("%s: audit %s (pass %d, fail %d, waived %d, no check yet %d)" % (
            host["host"], host["status"].upper(), host["counts"]["pass"], host["counts"]["fail"],
            host["counts"]["waived"], host["counts"]["nocheck"]))
        for contact in host["contacts"]["entries"]:
            print("  contact: %s, %s, %s%s" % (contact.get("name"), contact.get("role"), contact.get("mobile") or "no mobile",
                                             ", 24/7" if contact.get("available_24x7") is True else ""))
        for problem in host["contacts"]["problems"]:
            print("  contact problem: %s" % problem)
        for line in process_lines(host.get("process")):
            print("  %s" % line)
        print("  %-12s %-58s %s" % ("ID", "requirement", "result"))
        for row in host["requirements"]:
            label = {"nocheck": "NO CHECK YET"}.get(row["status"], row["status"].upper())
            print("  %-12s %-58s %s (%s)" % (row["id"], row["title"][:58], label, row["summary"]))
            for check in row["checks"]:
                if check["outcome"] not in ("passed", "skipped"):
                    print("      failed: %s: %s" % (re.sub(r"^.*::", "", check["check"]), (check.get("message") or "")[:160]))
            for waiver in row["waivers"]:
                print("      waiver (%s): %s; approved by %s; expires %s" % (
                    waiver["state"], waiver["record"].get("reason"), waiver["record"].get("approved_by") or "nobody",
                    waiver["record"].get("expires")))
        for error in host["errors"]:
            print("  ERROR: %s" % error)
        ok = ok and host["counts"]["fail"] == 0 and not host["errors"]
    return 0 if ok else 1


def main(argv):
    with open(argv[1], encoding="utf-8") as handle:
        results = json.load(handle)
    if isinstance(results, dict) and "hosts" in results:
        return audit_summary(results)
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
