"""The collection's actions that talk to the host through the connection, over real SSH.

read_command, systemd_units_info and systemd_units send shell commands instead of modules.
Over the ssh connection a command without input gets a terminal by default, which merges
stderr into stdout and turns line ends into CRLF; modules never get one. The harness reaches
the scenario hosts through podman, so this runs them against the seeded host over a real
SSH login as root, as department IT runs the roles (the access role reads the accounts,
sshd's effective settings and its units this way: MS-ACCESS).
"""

import json
import os
import subprocess

import pytest

PLAYBOOK = """\
- name: The actions over SSH
  hosts: all
  gather_facts: false
  tasks:
    - name: Output on both streams, with an empty line
      stanford.trusted_mail.read_command:
        argv: [sh, -c, 'printf "one\\n\\ntwo\\n"; echo warning >&2; printf "%s" "$LC_ALL"']
      register: streams

    - name: Two units, one unknown
      stanford.trusted_mail.systemd_units_info:
        units: [ssh.service, tm-not-there.service]
      register: units

    - name: Keep sshd running
      stanford.trusted_mail.systemd_units:
        name: ssh
        state: started
      register: kept
"""


@pytest.mark.requirement("MS-ACCESS")
def test_reads_and_unit_changes_over_ssh(over_ssh, tmp_path):
    playbook = tmp_path / "actions.yml"
    playbook.write_text(PLAYBOOK)
    host = over_ssh["ansible_host"]
    # The results as JSON on stdout: no other callback (molecule's configuration enables
    # profile_tasks, which prints there too).
    config = tmp_path / "ansible.cfg"
    config.write_text("[defaults]\nstdout_callback = ansible.posix.json\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_CALLBACK")}
    env.update(ANSIBLE_CONFIG=str(config), ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    run = subprocess.run(
        ["ansible-playbook", "-i", "%s," % host, str(playbook),
         # LogLevel=ERROR: ssh's own notice about the host key would be on stderr too.
         "-e", json.dumps(dict(over_ssh, ansible_python_interpreter="/usr/bin/python3",
                               ansible_ssh_common_args=over_ssh["ansible_ssh_common_args"] + " -o LogLevel=ERROR"))],
        capture_output=True, text=True, cwd=os.environ["MOLECULE_PROJECT_DIRECTORY"], check=False, env=env)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    tasks = json.loads(run.stdout)["plays"][0]["tasks"]
    got = dict(zip(("streams", "units", "kept"), (task["hosts"][host] for task in tasks)))
    streams = got["streams"]
    assert streams["stdout_lines"] == ["one", "", "two", "C"], streams
    assert streams["stderr"] == "warning", streams
    assert got["units"]["units"]["ssh.service"]["load"] == "loaded", got["units"]
    assert got["units"]["units"]["tm-not-there.service"]["load"] == "not-found", got["units"]
    assert got["kept"]["status"]["ActiveState"] == "active" and not got["kept"]["changed"], got["kept"]
