#!/usr/bin/env python3
"""Synthetic ClamAV signature set for tests/bench/av-benchmark.sh (benchmark only).

Writes tm-bench-synth.hdb (random MD5 hash signatures, `md5hex:size:Name`) and
tm-bench-synth.ndb (random 20-byte body signatures, `Name:0:*:hex`) into a directory.
They exist only to give clamd a production-like memory footprint: random 128-bit hashes
and random 160-bit patterns will not match real data. Remove both files afterwards.
"""
import argparse
import os
import random


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", default="/var/lib/clamav")
    p.add_argument("--hdb", type=int, required=True)
    p.add_argument("--ndb", type=int, required=True)
    a = p.parse_args()
    rnd = random.Random(os.urandom(16))
    batch = 100000
    with open(os.path.join(a.dir, "tm-bench-synth.hdb"), "w") as f:
        n = 0
        while n < a.hdb:
            k = min(batch, a.hdb - n)
            raw = os.urandom(16 * k).hex()
            f.write("".join(f"{raw[32 * j:32 * j + 32]}:{rnd.randint(1024, 8 << 20)}:TM-Bench-Synth-HDB-{n + j}\n"
                            for j in range(k)))
            n += k
    with open(os.path.join(a.dir, "tm-bench-synth.ndb"), "w") as f:
        for i in range(a.ndb):
            f.write(f"TM-Bench-Synth-NDB-{i}:0:*:{os.urandom(20).hex()}\n")


if __name__ == "__main__":
    main()
