"""TM-06: playbooks/log_export.yml hands over exactly the lines of the requested range,
across rotated and compressed files and a change of year, with a manifest that verifies.

Rotated files with known lines (from late December 2024 to early January 2025, long
before any real line on the test host) are placed next to the mail log, dated as
logrotate would date them; the export of 2024-12-29..2025-01-02 must hold exactly the
lines of those days, in order, and none from the days around them.
"""

import glob
import json
import os
import subprocess
import tarfile

import pytest

START, END = "2024-12-29", "2025-01-02"
# (rotated file, its modification time, lines in it: (syslog stamp, day))
SEEDED = [
    ("-20241230.gz", "2024-12-30 00:05", [("Dec 28 09:00:01", "2024-12-28"), ("Dec 28 23:59:59", "2024-12-28"),
                                          ("Dec 29 00:00:00", "2024-12-29"), ("Dec 29 17:30:00", "2024-12-29")]),
    ("-20250102.gz", "2025-01-02 00:05", [("Dec 30 08:00:00", "2024-12-30"), ("Dec 31 23:59:59", "2024-12-31"),
                                          ("Jan  1 00:00:00", "2025-01-01"), ("Jan  1 12:00:00", "2025-01-01")]),
    ("-20250104", "2025-01-04 00:05", [("Jan  2 10:00:00", "2025-01-02"), ("Jan  2 23:59:59", "2025-01-02"),
                                       ("Jan  3 00:00:00", "2025-01-03"), ("Jan  3 08:00:00", "2025-01-03")]),
]


def line(stamp, day, index):
    return "%s mail postfix/smtp[%d]: tm-export-test %s #%d" % (stamp, 100 + index, day, index)


@pytest.fixture(scope="module")
def mail(hosts):
    return hosts["mail"]


@pytest.fixture(scope="module")
def seeded(mail):
    path = mail.run("postconf -h maillog_file").stdout.strip() or "/var/log/mail.log"
    group = mail.run("stat -c %%G %s", path).stdout.strip() or "root"
    expected, names, index = [], [], 0
    for suffix, mtime, entries in SEEDED:
        text = ""
        for stamp, day in entries:
            index += 1
            text += line(stamp, day, index) + "\n"
            if START <= day <= END:
                expected.append(line(stamp, day, index))
        name = path + suffix
        plain = name[:-3] if name.endswith(".gz") else name
        mail.check_output("printf %%s %s > %s", text, plain)
        if name.endswith(".gz"):
            mail.check_output("gzip -n -f %s", plain)
        mail.check_output("chown root:%s %s && chmod 0640 %s && touch -d %s %s", group, name, name, mtime, name)
        names.append(name)
    yield path, expected
    mail.run("rm -f %s" % " ".join(names))


@pytest.mark.requirement("TM-06")
def test_export_returns_exactly_the_range_with_a_manifest(seeded, tmp_path):
    path, expected = seeded
    project = os.environ["MOLECULE_PROJECT_DIRECTORY"]
    run = subprocess.run(
        ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], os.path.join(project, "playbooks", "log_export.yml"),
         "-e", json.dumps({"log_export_start": START, "log_export_end": END, "log_export_hosts": "tm-maillog-mail",
                           "log_export_dir": str(tmp_path)})],
        capture_output=True, text=True, cwd=project, check=False)
    assert run.returncode == 0, "the export failed:\n%s" % (run.stdout[-2500:] + run.stderr[-1000:])
    archives = glob.glob(str(tmp_path / ("maillog-%s_%s-*.tar.gz" % (START, END))))
    assert len(archives) == 1, archives
    check = subprocess.run(["sha256sum", "-c", os.path.basename(archives[0]) + ".sha256"],
                           cwd=str(tmp_path), capture_output=True, text=True, check=False)
    assert check.returncode == 0, "the archive's checksum does not verify: %s" % check.stdout
    unpacked = tmp_path / "unpacked"
    with tarfile.open(archives[0]) as archive:
        archive.extractall(unpacked, filter="data")
    manifests = glob.glob(str(unpacked / "**" / "SHA256SUMS"), recursive=True)
    assert len(manifests) == 1, manifests
    folder = os.path.dirname(manifests[0])
    verify = subprocess.run(["sha256sum", "-c", "--strict", "SHA256SUMS"], cwd=folder, capture_output=True, text=True, check=False)
    assert verify.returncode == 0, "the manifest does not verify:\n%s" % verify.stdout
    listed = sorted(entry.split("  ", 1)[1] for entry in open(manifests[0], encoding="utf-8").read().splitlines())
    assert listed == sorted(["REQUEST.json", "tm-maillog-mail.log"]), listed
    got = open(os.path.join(folder, "tm-maillog-mail.log"), encoding="utf-8").read().splitlines()
    assert got == expected, "the export holds other lines than the range's:\nexpected %s\ngot %s" % (expected, got)
    request = json.load(open(os.path.join(folder, "REQUEST.json"), encoding="utf-8"))
    assert request["start"] == START and request["end"] == END and request["hosts"]["tm-maillog-mail"]["lines"] == len(expected)
