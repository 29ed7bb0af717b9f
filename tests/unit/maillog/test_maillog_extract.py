# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of roles/maillog/files/maillog-extract: the order of the rotated copies.

A host converged after Debian's own rotation keeps numbered copies (mail.log.1,
mail.log.2.gz) older than the role's dated ones. The export must still come out in the order
the lines were logged. The whole export runs against a real rotated log in the maillog
scenario (molecule/maillog/tests/test_export.py).
"""

import gzip
import json
import os
import subprocess
import sys
import time

from script_module import load_script, script_path

SCRIPT = script_path('roles', 'maillog', 'files', 'maillog-extract')
extract = load_script('maillog_extract', 'roles', 'maillog', 'files', 'maillog-extract')
DAY = 86400


def write(path, day, stamp):
    """A copy holding one line logged on DAY (Dec DAY, 2026), last written at STAMP."""
    line = 'Dec %2d 10:00:00 mail postfix/smtpd[1]: day %d\n' % (day, day)
    if path.endswith('.gz'):
        with gzip.open(path, 'wt') as handle:
            handle.write(line)
    else:
        with open(path, 'w') as handle:
            handle.write(line)
    os.utime(path, (stamp, stamp))


def logs(tmp_path, numbered_first):
    log = str(tmp_path / 'mail.log')
    base = time.mktime((2026, 12, 1, 12, 0, 0, 0, 0, -1))
    numbered = [(log + '.2.gz', 1), (log + '.1', 2)]
    dated = [(log + '-20261203.gz', 3), (log + '-20261204', 4)]
    older, newer = (numbered, dated) if numbered_first else (dated, numbered)
    order = []
    for offset, (path, _) in enumerate(older + newer):
        day = offset + 1
        write(path, day, base + (day - 1) * DAY)
        order.append(path)
    write(log, 5, base + 4 * DAY)
    return log, order + [log]


def test_numbered_copies_from_before_the_role_come_first(tmp_path):
    log, expected = logs(tmp_path, numbered_first=True)
    assert extract.rotated(log) == expected


def test_dated_copies_come_first_when_they_are_the_older_ones(tmp_path):
    log, expected = logs(tmp_path, numbered_first=False)
    assert extract.rotated(log) == expected


def test_the_export_is_in_the_order_the_lines_were_logged(tmp_path):
    log, _ = logs(tmp_path, numbered_first=True)
    out = tmp_path / 'out.txt'
    done = subprocess.run([sys.executable, SCRIPT, '--log', log, '--start', '2026-12-01', '--end', '2026-12-31',
                           '--out', str(out)], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout)['lines'] == 5
    assert [line.split()[-1] for line in out.read_text().splitlines()] == ['1', '2', '3', '4', '5']
