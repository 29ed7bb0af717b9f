#!/usr/bin/env python3
"""clamd's own scan rate for tests/bench/av-benchmark.sh.

Sends COUNT messages (same generator as the SMTP client: unique content each) to clamd's
local socket with INSTREAM, over CONC parallel connections (one per scan, as
clamav-milter does), and prints one JSON line: scans, verdicts, wall time, rate, latency.
"""
import argparse
import json
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchmsg import make_message, run_pool, stats  # noqa: E402

CHUNK = 65536


def scan(path, data):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(300)
        s.connect(path)
        s.sendall(b"zINSTREAM\0")
        for i in range(0, len(data), CHUNK):
            part = data[i:i + CHUNK]
            s.sendall(struct.pack("!L", len(part)) + part)
        s.sendall(struct.pack("!L", 0))
        reply = b""
        while not reply.endswith(b"\0"):
            got = s.recv(4096)
            if not got:
                break
            reply += got
    return reply.rstrip(b"\0").decode(errors="replace")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--socket", default="/run/clamav/clamd.ctl")
    p.add_argument("--conc", type=int, default=8)
    p.add_argument("--count", type=int, default=400)
    p.add_argument("--size", type=int, default=10240)
    p.add_argument("--run-id", default="clamd")
    p.add_argument("--ping", action="store_true", help="only answer whether clamd answers PING")
    a = p.parse_args()

    if a.ping:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(2)
                s.connect(a.socket)
                s.sendall(b"zPING\0")
                ok = s.recv(64).startswith(b"PONG")
        except OSError:
            ok = False
        sys.exit(0 if ok else 1)

    msgs = [make_message(a.run_id, i, a.size) for i in range(a.count)]
    lock = threading.Lock()
    lat, verdicts = [], {}

    def task(i):
        t0 = time.monotonic()
        try:
            r = scan(a.socket, msgs[i])
        except OSError as e:
            r = f"ERROR {type(e).__name__}"
        dt = time.monotonic() - t0
        key = "OK" if r.endswith(" OK") else r[:120]
        with lock:
            verdicts[key] = verdicts.get(key, 0) + 1
            if key == "OK":
                lat.append(dt)

    wall = run_pool(a.count, a.conc, task)
    out = {"sent": a.count, "ok": len(lat), "verdicts": verdicts, "wall_s": round(wall, 3),
           "rate": round(len(lat) / wall, 2), "avg_size": sum(map(len, msgs)) // len(msgs)}
    out.update(stats(lat))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
