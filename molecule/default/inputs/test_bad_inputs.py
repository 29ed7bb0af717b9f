"""TM-04 / TM-05 / TM-07: bad role input stops the run with a clear error before anything on the host changes.

Runs from the default scenario's prepare step, against its still-fresh mail host: each
case runs playbooks/site.yml with one bad setting and must fail with a message that
names the problem, and the host must be exactly as it was (packages and /etc).
"""

import json
import os
import subprocess

import pytest
from host_state import snapshot

CASES = {
    "invalid-cidr": ({"mta_relay_networks": ["10.18.0.0/33"]}, "mta_relay_networks must list at least one network"),
    "host-bits-set": ({"mta_relay_networks": ["171.64.1.1/14"]}, "has host bits set"),
    "no-prefix": ({"mta_relay_networks": ["171.64.0.0"]}, "has no prefix length"),
    "empty-networks": ({"mta_relay_networks": []}, "The list is empty"),
    "relayhost-without-port": ({"mta_relayhost": "[smtp.stanford.edu]"}, "Write it as [host]:port"),
    "relayhost-bad-port": ({"mta_relayhost": "[smtp.stanford.edu]:70000"}, "with a port from 1 to 65535"),
    "missing-certificate": ({"mta_tls_cert_source": "provided", "mta_tls_cert_file": "/etc/ssl/certs/absent.pem"},
                            "the host has no /etc/ssl/certs/absent.pem"),
    "clear-text-password": ({"mta_sasl_enabled": True, "mta_sasl_users": [{"name": "app", "password_hash": "secret"}]},
                            "Clear-text passwords are not accepted"),
    "not-a-boolean": ({"mta_sasl_enabled": "perhaps"}, "mta_sasl_enabled"),
    "unknown-tls-level": ({"mta_relayhost_tls_level": "sometimes"}, "must be one of"),
    "postfix-limit-over-scan-limit": ({"mta_message_size_limit": 52428800, "antivirus_max_message_size": 26214400},
                                      "Part of a larger message would go unscanned"),
    "signatures-not-daily": ({"antivirus_freshclam_checks_per_day": 0}, "Signatures must be updated at least daily"),
    "no-signature-mirror": ({"antivirus_freshclam_mirrors": []}, "at least one mirror"),
    "admin-not-an-address": ({"antivirus_admin_emails": ["root"]}, "antivirus_admin_emails must hold e-mail addresses"),
}


@pytest.fixture(scope="module")
def before(hosts):
    return snapshot(hosts["mail"])


@pytest.mark.requirement("TM-04", "TM-05", "TM-07")
@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused_before_any_change(hosts, before, case):
    extra, expected = CASES[case]
    project = os.environ["MOLECULE_PROJECT_DIRECTORY"]
    run = subprocess.run(
        ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], os.path.join(project, "playbooks", "site.yml"), "-e", json.dumps(extra)],
        capture_output=True, text=True, cwd=project, check=False)
    output = " ".join((run.stdout + run.stderr).split())
    assert run.returncode != 0, "the run accepted %s:\n%s" % (case, run.stdout[-2000:])
    assert expected in output, "the error does not say what is wrong (%r):\n%s" % (expected, output[-3000:])
    assert snapshot(hosts["mail"]) == before, "the host changed before the error"
