#!/usr/bin/env python3
"""Markdown results table for tests/bench/av-benchmark.sh (reads its results.jsonl)."""
import json
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
mem = [r for r in rows if r["path"] == "clamd-db"]
runs = [r for r in rows if r["path"] != "clamd-db"]

print("| signatures | clamd database load (restart to PING) | clamd memory after load |")
print("|---|---|---|")
for r in mem:
    print(f"| {r['sigs']} | {r['load_s']} s | {r['mem'].strip()} |")
print()
print("| signatures | size | path | sent | accepted | at sink | queue left | X-Virus-Scanned | msg/s (accepted) | msg/s (end to end) | mean latency ms | p95 ms |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in runs:
    if r["path"] == "clamd":
        print(f"| {r['sigs']} | {r['avg_size']} B | clamd INSTREAM | {r['sent']} | {r['ok']} OK "
              f"{'' if set(r['verdicts']) == {'OK'} else r['verdicts']} | - | - | - | {r['rate']} | - | {r['mean_ms']} | {r['p95_ms']} |")
    else:
        print(f"| {r['sigs']} | {r['avg_size']} B | {r['path']} | {r['sent']} | {r['accepted']} | {r['at_sink']} | "
              f"{r['queue_left']} | {r['scanned_hdr']} | {r['rate']} | {r['e2e_rate']} | {r['mean_ms']} | {r['p95_ms']} |")
print()
# On a host where client, Postfix, milter, clamd and sink share the same cores, their CPU
# costs add up: the best the AV path can do is one Postfix pass plus one scan per message,
# i.e. 1 / (1/postfix + 1/clamd). "added by the pipeline" is what the AV path costs per
# message beyond that sum (milter protocol, extra copy of the message, its clamd session).
print("| signatures | size | AV path / Postfix alone | AV path / clamd alone | Postfix + scan, cores shared (msg/s) | AV path / that | added by the pipeline (ms/msg) |")
print("|---|---|---|---|---|---|---|")
for sigs in dict.fromkeys(r["sigs"] for r in runs):
    for size in dict.fromkeys(r["size"] for r in runs):
        get = {r["path"]: r["rate"] for r in runs if r["sigs"] == sigs and r["size"] == size}
        if {"postfix-only", "av-path", "clamd"} <= set(get):
            av, pf, cl = get["av-path"], get["postfix-only"], get["clamd"]
            shared = 1 / (1 / pf + 1 / cl)
            print(f"| {sigs} | {size} B | {av / pf:.2f} | {av / cl:.2f} | {shared:.1f} | {av / shared:.2f} | "
                  f"{1000 / av - 1000 / shared:.2f} |")
