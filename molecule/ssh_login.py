"""Real SSH logins to a test host as root, for the checks of the lock-out guards.

The guards read SSH_CONNECTION, which only a real SSH connection carries (the harness's
podman connection has none). The key is made for the run and removed afterwards.
"""

import json
import shutil
import subprocess


def authorize_root_key(host, directory):
    """Make an ed25519 key in DIRECTORY and let it log in as root on HOST; return its path."""
    assert shutil.which("ssh-keygen"), "ssh-keygen is needed on the controller"
    key = directory / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    host.check_output("install -d -m 0700 /root/.ssh && printf '%%s\\n' %s >> /root/.ssh/authorized_keys && "
                      "chmod 600 /root/.ssh/authorized_keys" % json.dumps(key.with_suffix(".pub").read_text().strip()))
    return key


def remove_root_keys(host):
    host.run("rm -f /root/.ssh/authorized_keys")


SSH_OPTIONS = "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
