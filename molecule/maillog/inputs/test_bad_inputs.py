"""TM-06 / MS-LOGGING: bad input stops the run with a clear error before anything changes.

Runs from the maillog scenario's prepare step against its not yet converged mail host:
each role case runs inputs/site.yml (every role's pre-flight first, as playbooks/site.yml
does) with one bad setting; each export case runs playbooks/log_export.yml. Each must
fail with a message that names the problem, and the host must be exactly as it was.
"""

import json
import os
import subprocess

import pytest
from host_state import snapshot

HERE = os.path.dirname(os.path.abspath(__file__))
ROLE_CASES = {
    "retention-below-a-year": ({"maillog_retention_days": 90}, "must be at least 366"),
    "collector-without-tls-settings": ({"maillog_forward_ca_file": ""}, "goes to the collector over TLS only"),
    "collector-ca-not-on-host": ({"maillog_forward_ca_file": "/etc/ssl/certs/absent-ca.pem"},
                                 "The host has no /etc/ssl/certs/absent-ca.pem"),
    "no-collector": ({"maillog_forward_host": ""}, "Set maillog_forward_host"),
    "client-cert-without-key": ({"maillog_forward_client_key_file": ""},
                                "both or neither of maillog_forward_client_cert_file"),
    "relp-without-client-certificate": ({"maillog_forward_client_cert_file": "", "maillog_forward_client_key_file": ""},
                                        "both are required with RELP"),
    "log-outside-var-log": ({"maillog_file": "/etc/postfix/mail.log"}, "a plain file path under /var/log/"),
    "not-enough-space": ({"maillog_expected_daily_mb": 100000000}, "Not enough free space for 400 days of mail logs"),
    "retention-not-a-number": ({"maillog_retention_days": "a year"}, "maillog_retention_days"),
}
EXPORT_CASES = {
    "export-end-before-start": ({"log_export_start": "2026-02-01", "log_export_end": "2026-01-01"},
                                "The export range ends (2026-01-01) before it starts (2026-02-01)"),
    "export-date-not-iso": ({"log_export_start": "01/02/2026", "log_export_end": "2026-01-31"}, "both YYYY-MM-DD"),
    "export-date-not-a-day": ({"log_export_start": "2026-02-29", "log_export_end": "2026-03-31"}, "both YYYY-MM-DD"),
    "export-without-range": ({}, "Give the range as log_export_start and log_export_end"),
}


@pytest.fixture(scope="module")
def before(hosts):
    return snapshot(hosts["mail"])


def run(playbook, extra, cwd):
    done = subprocess.run(["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], playbook, "-e", json.dumps(extra)],
                          capture_output=True, text=True, cwd=cwd, check=False)
    return done.returncode, " ".join((done.stdout + done.stderr).split())


@pytest.mark.requirement("TM-06", "MS-LOGGING")
@pytest.mark.parametrize("case", sorted(ROLE_CASES))
def test_bad_role_input_is_refused_before_any_change(hosts, before, case):
    extra, expected = ROLE_CASES[case]
    code, output = run(os.path.join(HERE, "site.yml"), extra, os.environ["MOLECULE_PROJECT_DIRECTORY"])
    assert code != 0, "the run accepted %s:\n%s" % (case, output[-2000:])
    assert expected in output, "the error does not say what is wrong (%r):\n%s" % (expected, output[-3000:])
    assert snapshot(hosts["mail"]) == before, "the host changed before the error"


@pytest.mark.requirement("TM-06")
@pytest.mark.parametrize("case", sorted(EXPORT_CASES))
def test_bad_export_request_is_refused(hosts, before, case, tmp_path):
    extra, expected = EXPORT_CASES[case]
    extra = dict(extra, log_export_hosts="tm-maillog-mail", log_export_dir=str(tmp_path))
    project = os.environ["MOLECULE_PROJECT_DIRECTORY"]
    code, output = run(os.path.join(project, "playbooks", "log_export.yml"), extra, project)
    assert code != 0, "the export accepted %s:\n%s" % (case, output[-2000:])
    assert expected in output, "the error does not say what is wrong (%r):\n%s" % (expected, output[-3000:])
    assert list(tmp_path.iterdir()) == [], "the export left files behind: %s" % list(tmp_path.iterdir())
    assert snapshot(hosts["mail"]) == before, "the host changed"
