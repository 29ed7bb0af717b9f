"""MS-PATCH / MS-FIREWALL: bad input, an unsupported release and a firewall that would lock
Ansible out all stop the baseline role before anything on the host changes.

Runs from the baseline scenario's prepare step against the seeded, never-converged mail
host (and the outside probe, made to look like Debian 11). The podman connection has no
SSH client address, so the lock-out guard is tested with
baseline_firewall_controller_address, which stands for the address Ansible connects from.
"""

import json
import os
import subprocess

import pytest
import host_state
from ssh_login import SSH_OPTIONS, authorize_root_key, remove_root_keys

CASES = {
    "controller-outside-admin-networks": (
        {"baseline_firewall_controller_address": "203.0.113.7"}, "The new firewall would lock Ansible out"),
    "ssh-disabled-while-ansible-uses-it": (
        {"baseline_firewall_controller_address": "172.24.77.81", "baseline_ssh_enabled": False}, "SSH is disabled"),
    "controller-on-campus-but-not-admin": (
        {"baseline_firewall_controller_address": "172.24.77.83"}, "connects from 172.24.77.83 to port 22"),
    "source-with-host-bits": ({"baseline_ssh_sources": ["172.24.77.81/24"]}, "has host bits set"),
    "source-not-a-network": ({"baseline_vuln_scanner_sources": ["scanner.stanford.edu"]}, "Invalid entries: scanner.stanford.edu"),
    "no-admin-networks": ({"baseline_ssh_sources": []}, "nobody could reach SSH"),
    "ssh-port-out-of-range": ({"baseline_ssh_port": 70000}, "Firewall ports must be 1 to 65535"),
    "reboot-time-not-hh-mm": ({"baseline_patch_reboot_time": "4am"}, "baseline_patch_reboot_time must be HH:MM"),
    "relative-aide-path": ({"baseline_aide_paths": ["etc"]}, "must hold absolute paths"),
}


def snapshot(host):
    """The shared fingerprint, and the loaded firewall ruleset."""
    return host_state.snapshot(host, "(nft list ruleset 2>&1 || true)")


def run_role(extra, target="tm-baseline-mail", entry="main"):
    project = os.environ["MOLECULE_PROJECT_DIRECTORY"]
    playbook = os.path.join(project, "molecule", "baseline", "inputs", "baseline.yml")
    extra = dict(extra, tm_target=target, tm_entry=entry)
    run = subprocess.run(["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], playbook, "-e", json.dumps(extra)],
                         capture_output=True, text=True, cwd=project, check=False)
    return run.returncode, " ".join((run.stdout + run.stderr).split())


@pytest.fixture(scope="module")
def before(hosts):
    return snapshot(hosts["mail"])


@pytest.mark.requirement("MS-FIREWALL", "MS-PATCH", "MS-IDS")
@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused_before_any_change(hosts, before, case):
    extra, expected = CASES[case]
    rc, output = run_role(extra)
    assert rc != 0, "the run accepted %s:\n%s" % (case, output[-2000:])
    assert expected in output, "the error does not say what is wrong (%r):\n%s" % (expected, output[-3000:])
    assert snapshot(hosts["mail"]) == before, "the host changed before the error"


@pytest.mark.requirement("MS-FIREWALL")
def test_guard_lets_an_admin_address_through(hosts):
    rc, output = run_role({"baseline_firewall_controller_address": "172.24.77.81"}, entry="preflight")
    assert rc == 0, output[-3000:]
    assert "Lock-out guard: 172.24.77.81 may reach port 22" in output, output[-3000:]


@pytest.mark.requirement("MS-FIREWALL")
def test_guard_says_when_it_has_no_address(hosts):
    """podman connection: no SSH_CONNECTION, nothing to compare; the run says so and goes on."""
    rc, output = run_role({}, entry="preflight")
    assert rc == 0, output[-3000:]
    assert "carries no client address" in output, output[-3000:]


@pytest.fixture(scope="module")
def over_ssh(hosts, tmp_path_factory):
    """Reach the mail host over SSH from the controller (172.24.77.1 on the campus bridge),
    with a key made for this run, so that the guard reads a real SSH_CONNECTION."""
    mail = hosts["mail"]
    key = authorize_root_key(mail, tmp_path_factory.mktemp("ssh"))
    yield ["-i", "172.24.77.80,", "-e", json.dumps({
        "ansible_user": "root", "ansible_ssh_private_key_file": str(key), "ansible_ssh_common_args": SSH_OPTIONS,
        "ansible_python_interpreter": "/usr/bin/python3"})]
    remove_root_keys(mail)


def run_over_ssh(args, extra):
    project = os.environ["MOLECULE_PROJECT_DIRECTORY"]
    playbook = os.path.join(project, "molecule", "baseline", "inputs", "baseline.yml")
    extra = dict(extra, tm_target="172.24.77.80", tm_entry="preflight")
    run = subprocess.run(["ansible-playbook"] + args + [playbook, "-e", json.dumps(extra)],
                         capture_output=True, text=True, cwd=project, check=False)
    return run.returncode, " ".join((run.stdout + run.stderr).split())


@pytest.mark.requirement("MS-FIREWALL")
def test_guard_reads_the_ssh_client_address(over_ssh):
    """Over a real SSH connection, no address given: the guard finds 172.24.77.1 itself,
    lets it through with the campus as admin networks, and stops with the admin network
    narrowed to another host."""
    rc, output = run_over_ssh(over_ssh, {})
    assert rc == 0 and "Lock-out guard: 172.24.77.1 may reach port 22" in output, output[-3000:]
    rc, output = run_over_ssh(over_ssh, {"baseline_ssh_sources": ["172.24.77.81/32"]})
    assert rc != 0 and "would lock Ansible out: it connects from 172.24.77.1 to port 22" in output, output[-3000:]


@pytest.mark.requirement("MS-PATCH")
def test_unsupported_release_is_refused(hosts):
    """The outside probe is made to look like Debian 11 for the length of this check."""
    probe = hosts["outside"]
    probe.check_output(
        "cat /etc/os-release > /tmp/os-release.content && (readlink /etc/os-release || true) > /tmp/os-release.link && "
        "cp /etc/debian_version /tmp/debian_version.saved && rm /etc/os-release && "
        "sed -e 's/^VERSION_ID=.*/VERSION_ID=11/' -e 's/^VERSION=.*/VERSION=11/' "
        "-e 's/^VERSION_CODENAME=.*/VERSION_CODENAME=bullseye/' /tmp/os-release.content > /etc/os-release && "
        "echo 11.11 > /etc/debian_version")
    try:
        rc, output = run_role({}, target="tm-baseline-outside")
    finally:
        probe.check_output(
            "rm -f /etc/os-release && if [ -s /tmp/os-release.link ]; then ln -s \"$(cat /tmp/os-release.link)\" /etc/os-release; "
            "else cp /tmp/os-release.content /etc/os-release; fi && cp /tmp/debian_version.saved /etc/debian_version")
    assert rc != 0, output[-2000:]
    assert "supports Debian 12 and 13" in output and "Debian 11" in output, output[-3000:]
