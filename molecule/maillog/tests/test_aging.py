"""TM-06: a year of daily rotations, simulated with the host's real logrotate configuration.

Each simulated day appends numbered lines to the mail log and runs logrotate on
/etc/logrotate.conf at that day's date (faketime, with a state file of its own so the
host's real rotation state is untouched). Afterwards every line of the last 366 days
must still be on the host, in files that decompress, complete and in order, and Postfix
must still write to the fresh log. The simulated days lie in 2031/2032, far from any
real log line. Rotated copies from earlier runs (the bad-host pass in prepare, an earlier
verify) are first moved to /var/tmp, and the lines carry a token of this run.
"""

import datetime
import re
import uuid

import pytest

DAYS = 380
LINES = 3
FIRST = datetime.date(2031, 1, 1)
STATE = "/var/tmp/tm-aging.logrotate.state"

SIMULATE = r"""
set -e
log="$1"; first="$2"; days="$3"; lines="$4"; state="$5"; token="$6"
rm -f "$state"
mkdir -p "/var/tmp/tm-aging-earlier-$token"
find "$(dirname "$log")" -maxdepth 1 -type f \( -name "$(basename "$log")-*" -o -name "$(basename "$log").[0-9]*" \) \
  -exec mv -t "/var/tmp/tm-aging-earlier-$token" {} +
for i in $(seq 0 $((days - 1))); do
  day=$(date -d "$first + $i days" +%F)
  stamp=$(date -d "$day" '+%b %e')
  for n in $(seq 1 "$lines"); do
    printf '%s 12:00:0%s mail tm-aging[1]: tm-aging %s day %s line %s\n' "$stamp" "$n" "$token" "$day" "$n" >> "$log"
  done
  faketime "$day 23:59:00" logrotate -s "$state" /etc/logrotate.conf
done
"""


@pytest.fixture(scope="module")
def mail(hosts):
    return hosts["mail"]


@pytest.fixture(scope="module")
def aged(mail):
    path = mail.run("postconf -h maillog_file").stdout.strip() or "/var/log/mail.log"
    token = uuid.uuid4().hex[:12]
    run = mail.run("bash -c %s - %s %s %s %s %s %s", SIMULATE, path, FIRST.isoformat(), str(DAYS), str(LINES), STATE, token)
    assert run.rc == 0, "the simulated rotations failed: %s" % (run.stderr[-1500:] or run.stdout[-1500:])
    # Every tm-aging line still on the host, from every file of the log (plain or compressed).
    found = mail.run("for f in %s %s-* %s.[0-9]*; do [ -e \"$f\" ] || continue; "
                     "case $f in *.gz) zcat -- \"$f\" || echo \"UNREADABLE $f\";; *) cat -- \"$f\";; esac; done "
                     "| grep -aE %s", path, path, path, "tm-aging %s day|UNREADABLE" % token)
    return path, found.stdout.splitlines()


@pytest.mark.requirement("TM-06")
def test_a_year_of_rotated_logs_survives(aged):
    path, lines = aged
    unreadable = [line for line in lines if line.startswith("UNREADABLE")]
    assert not unreadable, unreadable
    last = FIRST + datetime.timedelta(days=DAYS - 1)
    kept = {}
    for line in lines:
        match = re.search(r"tm-aging \S+ day (\S+) line (\d+)", line)
        kept.setdefault(match.group(1), []).append(int(match.group(2)))
    missing, incomplete = [], []
    for back in range(366):
        day = (last - datetime.timedelta(days=back)).isoformat()
        if day not in kept:
            missing.append(day)
        elif kept[day] != list(range(1, LINES + 1)):
            incomplete.append((day, kept[day]))
    assert not missing, "%d of the last 366 days are gone from %s after daily rotation (oldest kept: %s; missing e.g. %s)" % (
        len(missing), path, min(kept) if kept else "none", missing[-3:])
    assert not incomplete, "days with lost or duplicated lines: %s" % incomplete[:5]


@pytest.mark.requirement("TM-06")
def test_postfix_writes_the_fresh_log_after_rotation(mail, aged):
    path, _ = aged
    marker = "tm-aging-after-rotation"
    mail.run("postlog -t tm-check -p info %s", marker)
    fresh = mail.run("sleep 2; grep -cF -- %s %s", marker, path)
    assert fresh.stdout.strip() not in ("", "0"), "Postfix did not log to %s after the rotations" % path
    rotated = mail.run("ls -1 %s-* 2>/dev/null | wc -l", path).stdout.strip()
    assert int(rotated) >= 366, "only %s rotated files of %s on the host" % (rotated, path)
