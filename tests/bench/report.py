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
print("| signatures | size | AV path / Postfix alone | AV path / clamd alone |")
print("|---|---|---|---|")
for sigs in dict.fromkeys(r["sigs"] for r in runs):
    for size in dict.fromkeys(r["size"] for r in runs):
        get = {r["path"]: r["rate"] for r in runs if r["sigs"] == sigs and r["size"] == size}
        if {"postfix-only", "av-path", "clamd"} <= set(get):
            print(f"| {sigs} | {size} B | {get['av-path'] / get['postfix-only']:.2f} | {get['av-path'] / get['clamd']:.2f} |")
