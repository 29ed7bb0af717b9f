"""MS-ACCESS / MS-2FA: input that would lock administrators out, or cannot work, stops the
run with a clear message before anything on the host changes.

Runs from the access scenario's prepare step against its seeded (never converged) host:
each case runs converge.yml with one bad setting; it must fail with a message that
names the problem, and the host's packages and /etc must be exactly as they were.
"""

import json
import os
import subprocess

import pytest
from host_state import snapshot


def public_key():
    path = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "access", "tmadmin.pub")
    with open(path, encoding="ascii") as handle:
        return handle.read().strip()


CASES = {
    "no-administrator": ({"access_admin_users": []}, "No administrator other than root has a key"),
    "only-root-has-a-key": ({"access_admin_users": [{"name": "root", "authorized_keys": ["@KEY@"]}]},
                            "No administrator other than root has a key"),
    "administrator-without-key": ({"access_admin_users": [{"name": "tmadmin", "authorized_keys": [],
                                                           "totp_secret": "JBSWY3DPEHPK3PXPJBSWY3DP"}]},
                                  "No administrator other than root has a key"),
    "private-key-given": ({"access_admin_users": [{"name": "tmadmin", "authorized_keys": ["-----BEGIN OPENSSH PRIVATE KEY-----"],
                                                   "totp_secret": "JBSWY3DPEHPK3PXPJBSWY3DP"}]},
                          "keys that are not public keys"),
    "totp-secret-missing": ({"access_admin_users": [{"name": "tmadmin", "authorized_keys": ["@KEY@"]}]},
                            "have no totp_secret and could not log in: tmadmin"),
    "totp-secret-not-base32": ({"access_admin_users": [{"name": "tmadmin", "authorized_keys": ["@KEY@"], "totp_secret": "hello-world"}]},
                               "not base32"),
    "duo-without-keys": ({"access_mfa_method": "duo"}, "access_duo_ikey, access_duo_skey and access_duo_host are not all set"),
    "duo-without-package": ({"access_mfa_method": "duo", "access_duo_ikey": "DIXXXXXXXXXXXXXXXXXX", "access_duo_skey": "x" * 40,
                             "access_duo_host": "api-00000000.duosecurity.com"},
                            "is neither installed nor available from the host's apt sources"),
    "exemption-from-everywhere": ({"access_mfa_exempt_users": [{"name": "deploy", "addresses": []}]},
                                  "an exemption from everywhere is not allowed"),
    "exemption-from-the-whole-internet": ({"access_mfa_exempt_users": [{"name": "deploy", "addresses": ["0.0.0.0/0", "::/0"]}]},
                                          "0.0.0.0/0: wider than /16"),
    "weak-cipher": ({"access_ssh_ciphers": ["aes256-ctr", "aes128-cbc"]}, "access_ssh_ciphers names weak ones: aes128-cbc"),
    "unknown-second-factor": ({"access_mfa_method": "sms"}, "access_mfa_method"),
    "root-login-by-password": ({"access_ssh_permit_root_login": "yes"}, "access_ssh_permit_root_login"),
}


@pytest.fixture(scope="module")
def before(hosts):
    return snapshot(hosts["mail"])


@pytest.mark.requirement("MS-ACCESS", "MS-2FA")
@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused_before_any_change(hosts, before, case):
    extra, expected = CASES[case]
    extra = json.loads(json.dumps(extra).replace("@KEY@", public_key()))
    scenario = os.environ["MOLECULE_SCENARIO_DIRECTORY"]
    run = subprocess.run(
        ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], os.path.join(scenario, "converge.yml"),
         "-e", json.dumps(extra)],
        capture_output=True, text=True, cwd=os.environ["MOLECULE_PROJECT_DIRECTORY"], check=False)
    output = " ".join((run.stdout + run.stderr).split())
    assert run.returncode != 0, "the run accepted %s:\n%s" % (case, run.stdout[-2000:])
    assert expected in output, "the error does not say what is wrong (%r):\n%s" % (expected, output[-3000:])
    assert snapshot(hosts["mail"]) == before, "the host changed before the error"


def _converge_over_ssh(connection, extra):
    scenario = os.environ["MOLECULE_SCENARIO_DIRECTORY"]
    run = subprocess.run(
        ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], os.path.join(scenario, "converge.yml"),
         "-e", json.dumps(dict(connection, **extra))],
        capture_output=True, text=True, cwd=os.environ["MOLECULE_PROJECT_DIRECTORY"], check=False)
    return run.returncode, " ".join((run.stdout + run.stderr).split())


@pytest.mark.requirement("MS-2FA")
def test_exemption_must_cover_the_address_ansible_connects_from(hosts, before, over_ssh):
    """Over real SSH as root: an exemption for root from another address stops the run (the
    next run would be asked for a code); from the controller's own address the guard lets
    the run on, which then stops at a later bad input (a review date), so nothing changes."""
    rc, output = _converge_over_ssh(over_ssh, {"access_mfa_exempt_users": [{"name": "root", "addresses": ["172.24.77.250/32"]}]})
    assert rc != 0 and "Ansible reaches this host by SSH as root from 172.24.77.1" in output, output[-3000:]
    assert "The exemption of root covers only 172.24.77.250/32" in output, output[-3000:]
    rc, output = _converge_over_ssh(over_ssh, {"access_mfa_exempt_users": [{"name": "root", "addresses": ["172.24.77.1/32"]}],
                                               "access_review_last_reviewed": "last spring"})
    assert rc != 0 and "Ansible reaches this host by SSH" not in output, output[-3000:]
    assert "access_review_last_reviewed" in output, output[-3000:]
    assert snapshot(hosts["mail"]) == before, "the host changed before the error"
