"""What the access scenario's input checks share: a real SSH login to the seeded host."""

import pytest
from ssh_login import SSH_OPTIONS, authorize_root_key, remove_root_keys


@pytest.fixture(scope="module")
def over_ssh(hosts, tmp_path_factory):
    """Reach the seeded host over SSH as root from the controller (172.24.77.1 on the campus
    bridge), with a key made for this run, so that the lock-out guard reads a real SSH_CONNECTION."""
    mail = hosts["mail"]
    key = authorize_root_key(mail, tmp_path_factory.mktemp("ssh"))
    yield {"ansible_connection": "ssh", "ansible_host": "172.24.77.90", "ansible_user": "root",
           "ansible_ssh_private_key_file": str(key), "ansible_ssh_common_args": SSH_OPTIONS}
    remove_root_keys(mail)
