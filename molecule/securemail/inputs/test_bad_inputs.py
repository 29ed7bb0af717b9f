"""TM-09: bad input stops the run with a clear error before anything changes.

Runs from the securemail scenario's prepare step against its not yet converged mail host:
each case runs inputs/site.yml (every role's pre-flight first, as playbooks/site.yml does)
with one bad setting. Each must fail with a message that names the problem, and the host
must be exactly as it was.
"""

import json
import os
import subprocess

import pytest
from host_state import snapshot

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = {
    "relay-missing": ({"securemail_relay": ""}, "Mail marked Secure: (and, with"),
    "relay-without-port": ({"securemail_relay": "secure.tm-test.stanford.edu"}, "give it as [host]:port"),
    "relay-port-out-of-range": ({"securemail_relay": "[secure.tm-test.stanford.edu]:70000"}, "from 1 to 65535"),
    "relay-ca-not-on-host": ({"securemail_relay_ca_file": "/etc/ssl/certs/absent-ca.pem"},
                             "the host has no /etc/ssl/certs/absent-ca.pem"),
    "relay-tls-level-may": ({"securemail_relay_tls_level": "may"}, "securemail_relay_tls_level"),
    "unknown-action": ({"securemail_gate_action": "drop"}, "securemail_gate_action"),
    "route-action-without-route": ({"securemail_gate_action": "route", "securemail_route_enabled": False},
                                   "'route' needs the Secure: route"),
    "bad-extra-pattern": ({"securemail_gate_extra_patterns": {"mrn": "([unclosed"}}, "Not valid: mrn"),
    "extra-pattern-named-ssn": ({"securemail_gate_extra_patterns": {"ssn": "x"}}, "Not valid: ssn"),
    "gate-smaller-than-postfix": ({"securemail_gate_max_message_size": 1000}, "the rest of a larger message would go unscanned"),
    "policy-level-may": ({"securemail_tls_policy": [{"destination": "example.org", "level": "may"}]}, "level"),
    "policy-bad-destination": ({"securemail_tls_policy": [{"destination": "exa mple.org", "level": "secure"}]},
                               "Each securemail_tls_policy entry needs a destination"),
    "high-risk-with-optional-relayhost-tls": ({"mta_relayhost_tls_level": "may"}, "High-risk mode (securemail_high_risk)"),
    "inventory-overrides-milters": ({"mta_main_cf": {"smtpd_milters": "", "smtp_host_lookup": "native"}},
                                    "mta_main_cf sets smtpd_milters, which this role manages"),
}


@pytest.fixture(scope="module")
def before(hosts):
    return snapshot(hosts["mail"])


@pytest.mark.requirement("TM-09")
@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused_before_any_change(hosts, before, case):
    extra, expected = CASES[case]
    done = subprocess.run(["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], os.path.join(HERE, "site.yml"),
                           "-e", json.dumps(extra)], capture_output=True, text=True,
                          cwd=os.environ["MOLECULE_PROJECT_DIRECTORY"], check=False)
    output = " ".join((done.stdout + done.stderr).split())
    assert done.returncode != 0, "the run accepted %s:\n%s" % (case, output[-2000:])
    assert expected in output, "the error does not say what is wrong (%r):\n%s" % (expected, output[-3000:])
    assert snapshot(hosts["mail"]) == before, "the host changed before the error"
