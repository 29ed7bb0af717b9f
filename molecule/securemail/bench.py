#!/usr/bin/env python3
"""Benchmark of the Secure Email gate (TM-09): messages per second accepted by Postfix
with the gate, as a ratio to the same Postfix without it, in one run.

    python molecule/securemail/bench.py [--rounds 3] [--count 400] [--sizes 10000,100000]
                                        [--concurrency 8] [--out docs/bench/securemail-DATE.jsonl]

Runs against the securemail scenario's converged containers (molecule converge -s
securemail). The campus container sends (tm-bench-send: STARTTLS, varied multipart
messages with a CSV attachment, no High Risk Data, so the gate parses and scans every
part and lets it pass). Between runs only smtpd_milters changes on the server ("gate"
= the role's setting, "none" = empty), rounds alternate, and the setting is restored at
the end. The load average of the host is recorded with each run.
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import time

MAIL, CAMPUS, SERVER = "tm-securemail-mail", "tm-securemail-campus", "172.24.77.110"


def run(container, command):
    return subprocess.run(["podman", "exec", container, "sh", "-c", command],
                          capture_output=True, text=True, check=True).stdout.strip()


def set_milters(value):
    run(MAIL, "postconf -e 'smtpd_milters=%s' && postfix reload >/dev/null 2>&1" % value)
    time.sleep(2)


def drain():
    """Wait until the mail of the previous run has left (incomplete files in "incoming",
    which sessions cut short leave behind until Postfix removes them, do not count)."""
    for _ in range(300):
        entries = [json.loads(line) for line in run(MAIL, "postqueue -j").splitlines()]
        if not [e for e in entries if e["queue_name"] != "incoming" or e["recipients"]]:
            return
        time.sleep(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--out", default="docs/bench/securemail-%s.jsonl" % datetime.date.today().isoformat())
    args = parser.parse_args()
    original = run(MAIL, "postconf -h smtpd_milters")
    assert "securemail" in original, "the gate is not in smtpd_milters: converge the scenario first"
    results = []
    try:
        for size in [int(s) for s in args.sizes.split(",")]:
            for rnd in range(args.rounds):
                for mode in (("gate", "none") if rnd % 2 == 0 else ("none", "gate")):
                    set_milters(original if mode == "gate" else "")
                    drain()
                    load = open("/proc/loadavg", encoding="ascii").read().split()[0]
                    out = json.loads(run(CAMPUS, "tm-bench-send %s %d %d %d" % (SERVER, args.count, size, args.concurrency)))
                    out.update(mode=mode, round=rnd, target_size=size, concurrency=args.concurrency, load1=float(load),
                               milters=original if mode == "gate" else "")
                    results.append(out)
                    print(json.dumps(out), flush=True)
    finally:
        set_milters(original)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "a", encoding="utf-8") as handle:
        for row in results:
            handle.write(json.dumps(row) + "\n")
    print("\n| size | Postfix alone (msg/s) | with the gate (msg/s) | ratio |")
    print("|---|---|---|---|")
    for size in sorted(set(r["target_size"] for r in results)):
        alone = statistics.median(r["msg_per_s"] for r in results if r["target_size"] == size and r["mode"] == "none")
        gate = statistics.median(r["msg_per_s"] for r in results if r["target_size"] == size and r["mode"] == "gate")
        print("| %d B | %.1f | %.1f | %.2f |" % (size, alone, gate, gate / alone))


if __name__ == "__main__":
    main()
