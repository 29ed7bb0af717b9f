#!/usr/bin/env python3
"""Synthetic ClamAV signature set for tests/bench/av-benchmark.sh (benchmark only).

Writes into a directory (default /var/lib/clamav), all named tm-bench-synth*:
  *.hdb  random MD5 hash signatures      md5hex:size:Name          (split, --per-file each)
  *.hsb  random SHA-256 hash signatures  sha256hex:size:Name:73
  .ndb   random 20-byte body signatures  Name:0:*:hex
  .ldb   random logical signatures       Name;Target:N;0&1;hex;hex (two 12-byte subsignatures,
         spread over target types, see LDB_TARGETS)
Random 128/256-bit hashes and random 96/160-bit patterns do not match real data; the set
only gives clamd a production-like memory footprint and a matcher of realistic size
(hash signatures cost memory, body and logical signatures cost scan time).
One .hdb with 6 million hashes made ClamAV 1.4.6 fail to load (mpool_malloc of 128 MiB),
hence the split. Remove the files afterwards (rm /var/lib/clamav/tm-bench-synth*).
"""
import argparse
import os
import random


# Share of the logical signatures per target type (1 PE, 3 HTML, 7 ASCII text, 10 PDF,
# 0 any). A guess at a production-like mix, not a measurement of the official set.
LDB_TARGETS = [(1, 0.60), (3, 0.15), (7, 0.10), (10, 0.10), (0, 0.05)]


def write_hashes(path, count, nbytes, fmt, start, rnd):
    batch = 100000
    with open(path, "w") as f:
        n = 0
        while n < count:
            k = min(batch, count - n)
            raw = os.urandom(nbytes * k).hex()
            w = 2 * nbytes
            f.write("".join(fmt.format(h=raw[w * j:w * j + w], size=rnd.randint(1024, 8 << 20), i=start + n + j)
                            for j in range(k)))
            n += k


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", default="/var/lib/clamav")
    p.add_argument("--hdb", type=int, default=0, help="MD5 hash signatures")
    p.add_argument("--hsb", type=int, default=0, help="SHA-256 hash signatures")
    p.add_argument("--ndb", type=int, default=0, help="body signatures")
    p.add_argument("--ldb", type=int, default=0, help="logical signatures")
    p.add_argument("--per-file", type=int, default=1000000, help="hash signatures per file")
    a = p.parse_args()
    rnd = random.Random(os.urandom(16))
    for kind, total, nbytes, fmt in (
            ("hdb", a.hdb, 16, "{h}:{size}:TM-Bench-Synth-HDB-{i}\n"),
            ("hsb", a.hsb, 32, "{h}:{size}:TM-Bench-Synth-HSB-{i}:73\n")):
        for part, start in enumerate(range(0, total, a.per_file)):
            write_hashes(os.path.join(a.dir, "tm-bench-synth-%d.%s" % (part, kind)),
                         min(a.per_file, total - start), nbytes, fmt, start, rnd)
    if a.ndb:
        with open(os.path.join(a.dir, "tm-bench-synth.ndb"), "w") as f:
            for i in range(a.ndb):
                f.write(f"TM-Bench-Synth-NDB-{i}:0:*:{os.urandom(20).hex()}\n")
    if a.ldb:
        # clamd evaluates a logical signature only for files of its target type; real sets
        # aim most of theirs at executables. Target:0 (any file) signatures are evaluated
        # for every part of every message, so their share sets the scan cost of mail.
        targets = [(t, int(share * a.ldb)) for t, share in LDB_TARGETS]
        targets[0] = (targets[0][0], a.ldb - sum(n for _, n in targets[1:]))
        with open(os.path.join(a.dir, "tm-bench-synth.ldb"), "w") as f:
            i = 0
            for target, n in targets:
                for _ in range(n):
                    f.write(f"TM-Bench-Synth-LDB-{i};Target:{target};0&1;{os.urandom(12).hex()};{os.urandom(12).hex()}\n")
                    i += 1


if __name__ == "__main__":
    main()
