#!/usr/bin/env python3
"""Per-role time and task count of an ansible-playbook log written with profile_tasks.

    tests/bench/converge-roles.py LOG [LOG...]

profile_tasks prints, under each TASK line, the time the previous task took; this adds
them up per role (the part of the task name before " : "; "play" for tasks outside roles),
with the number of tasks run, so per-task overhead (many small tasks) shows next to the
few slow tasks profile_tasks' top list names.
"""
import collections
import re
import sys

STAMP = re.compile(r"\((\d+):(\d+):([\d.]+)\)\s+\d+:\d+:[\d.]+ \*+\s*$")
TASK = re.compile(r"^(?:TASK|RUNNING HANDLER) \[(.+?)\] \*+")


def per_role(path):
    times, counts = collections.defaultdict(float), collections.Counter()
    current = pending = None
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            task = TASK.match(line)
            if task:
                pending = task.group(1)
                continue
            stamp = STAMP.search(line)
            if stamp:
                took = int(stamp.group(1)) * 3600 + int(stamp.group(2)) * 60 + float(stamp.group(3))
                if current is not None:
                    times[current] += took
                    counts[current] += 1
                name = pending or ""
                current = name.split(" : ")[0].replace("stanford.trusted_mail.", "") if " : " in name else "play"
    return times, counts


def main():
    for path in sys.argv[1:]:
        times, counts = per_role(path)
        total = sum(times.values())
        print(f"## {path}: {total:.1f} s in {sum(counts.values())} tasks (the last task's time is not in the log)")
        print("| role | tasks | seconds | share | s/task |")
        print("|---|---|---|---|---|")
        for role, secs in sorted(times.items(), key=lambda kv: -kv[1]):
            print(f"| {role} | {counts[role]} | {secs:.1f} | {100 * secs / total:.0f}% | {secs / counts[role]:.2f} |")
        print()


if __name__ == "__main__":
    main()
