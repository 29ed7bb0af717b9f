#!/usr/bin/env python3
"""SMTP load client for tests/bench/av-benchmark.sh.

Sends COUNT messages of about SIZE bytes, each with unique content, over CONC parallel
connections (one SMTP session per message, like a relay client) and prints one JSON line:
messages accepted, failures with their replies, wall time, rate and per-message latency
(connect to the reply after DATA). Messages are generated before the clock starts.
"""
import argparse
import json
import os
import smtplib
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchmsg import make_message, run_pool, stats  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, default=25)
    p.add_argument("--conc", type=int, default=8)
    p.add_argument("--count", type=int, default=400)
    p.add_argument("--size", type=int, default=10240)
    p.add_argument("--run-id", default="run")
    a = p.parse_args()

    msgs = [make_message(a.run_id, i, a.size) for i in range(a.count)]
    lock = threading.Lock()
    lat, fails = [], []

    def task(i):
        t0 = time.monotonic()
        try:
            with smtplib.SMTP(a.host, a.port, local_hostname="client.bench.stanford.edu", timeout=300) as s:
                s.sendmail("bench@bench.stanford.edu", ["sink@sink.bench.example"], msgs[i])
            dt = time.monotonic() - t0
            with lock:
                lat.append(dt)
        except Exception as e:  # a refused or deferred message is a failure, never retried
            with lock:
                fails.append(f"{i}: {type(e).__name__}: {e}"[:200])

    start_epoch = time.time()
    wall = run_pool(a.count, a.conc, task)
    out = {
        "start_epoch": start_epoch,
        "sent": a.count,
        "accepted": len(lat),
        "failed": len(fails),
        "fail_samples": fails[:5],
        "wall_s": round(wall, 3),
        "rate": round(len(lat) / wall, 2),
        "avg_size": sum(map(len, msgs)) // len(msgs),
    }
    out.update(stats(lat))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
