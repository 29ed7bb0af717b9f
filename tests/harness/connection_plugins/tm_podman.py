# Test harness only, not part of the collection: how molecule and the benchmarks reach
# their podman containers. Real servers are reached over SSH.
"""podman exec with pipelining, for the test containers.

containers.podman.podman runs every module in several podman calls: `podman mount` when
the connection opens (once per task), a `podman exec` to make a temporary directory, a
copy of the module into it, and a `podman exec` to run and remove it; it declares no
pipelining because `podman exec` without `-i` gives the process no stdin. This plugin
keeps that plugin's file transfer but passes `-i` when Ansible pipes a module in, declares
pipelining, and mounts the container's file system only when a file is transferred. Each
module then costs one `podman exec`, as it costs one SSH round trip with pipelining on a
real server.
"""

from __future__ import annotations

import shlex

from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.connection import ConnectionBase
from ansible_collections.containers.podman.plugins.connection.podman import Connection as PodmanConnection

DOCUMENTATION = """
    name: tm_podman
    short_description: podman exec with pipelining (stanford.trusted_mail test harness)
    description:
      - Runs commands in, and copies files to and from, a running podman container, like
        containers.podman.podman, with pipelining.
    options:
      remote_addr:
        description: Name or ID of the container.
        default: inventory_hostname
        vars:
          - name: ansible_host
          - name: inventory_hostname
          - name: ansible_podman_host
      remote_user:
        description: User the commands run as in the container (default, the container's).
        ini:
          - section: defaults
            key: remote_user
        env:
          - name: ANSIBLE_REMOTE_USER
        vars:
          - name: ansible_user
      podman_extra_args:
        description: Extra arguments for every podman command.
        default: ''
        vars:
          - name: ansible_podman_extra_args
        env:
          - name: ANSIBLE_PODMAN_EXTRA_ARGS
      podman_executable:
        description: The podman program.
        default: podman
        vars:
          - name: ansible_podman_executable
        env:
          - name: ANSIBLE_PODMAN_EXECUTABLE
"""


class Connection(PodmanConnection):
    transport = "tm_podman"
    has_pipelining = True

    def _connect(self):
        # No `podman mount` here: most tasks transfer no file.
        ConnectionBase._connect(self)
        self._connected = True
        return self

    def _mount(self):
        if self._mount_point is None and not getattr(self, "_tm_mount_tried", False):
            self._tm_mount_tried = True
            PodmanConnection._connect(self)  # sets _mount_point, or leaves None (podman cp then)

    def exec_command(self, cmd, in_data=None, sudoable=False):
        if not self._connected:
            self._connect()
        ConnectionBase.exec_command(self, cmd, in_data=in_data, sudoable=sudoable)
        args = ["exec"]
        if in_data is not None:
            args.append("-i")
        if self.user:
            args += ["--user", self.user]
        return self._podman(args, shlex.split(to_native(cmd, errors="surrogate_or_strict")), in_data)

    def put_file(self, in_path, out_path):
        self._mount()
        return super().put_file(in_path, out_path)

    def fetch_file(self, in_path, out_path):
        self._mount()
        return super().fetch_file(in_path, out_path)
