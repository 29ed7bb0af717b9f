# Test harness only, not part of the collection: how molecule and the benchmarks reach
# their podman containers. Real servers are reached over SSH.
"""podman exec with pipelining, for the test containers.

containers.podman.podman runs every module in several podman calls: `podman mount` when
the connection opens (once per task), a `podman exec` to make a temporary directory, a
copy of the module into it, and a `podman exec` to run and remove it; it declares no
pipelining because `podman exec` without `-i` gives the process no stdin. This plugin
declares pipelining and, when the controller runs as root (as the harness does), enters
the container's namespaces with nsenter instead of `podman exec`: about 5 ms per command
instead of 0.15-0.2 s of podman's own start, conmon and `runc exec`. Each module then
costs one cheap round trip, as it costs one SSH round trip over a persistent connection
with pipelining on a real server. The command sees what `podman exec` shows it: the
container's root, mounts, network, PID, IPC and UTS namespaces and the environment of
the container's init. It keeps the controller's cgroup and capability set; services are
started by the container's systemd, in its own cgroups, as with `podman exec`.

Without root, for a remote user other than the container's, or when the container's init
cannot be found, it falls back to `podman exec -i` (with pipelining) and podman's file
transfer. The init's PID is cached on disk (one `podman inspect` per container, not per
task) and checked against the process's start time before use, so a restarted or
re-created container is found again. The testinfra checks use the same approach
(molecule/nsenter_backend.py).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tempfile

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_native
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


NSENTER = "/usr/bin/nsenter"
_CACHE_DIR = "/run/tm_podman"


def _start_time(pid):
    """The start time of process PID (clock ticks since boot), or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _init_environment(pid):
    with open("/proc/%d/environ" % pid, "rb") as handle:
        pairs = [item.split(b"=", 1) for item in handle.read().split(b"\0") if b"=" in item]
    return dict(pairs)


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

    def _container_init(self):
        """(pid, environment) of the container's init when nsenter can be used, else None."""
        if getattr(self, "_tm_init", False) is not False:
            return self._tm_init
        self._tm_init = None
        if self.user not in (None, "", "root") or os.geteuid() != 0 or not os.access(NSENTER, os.X_OK):
            return None
        name = self.get_option("remote_addr")
        cache = os.path.join(_CACHE_DIR, name.replace("/", "_") + ".json")
        try:
            with open(cache, encoding="utf-8") as handle:
                cached = json.load(handle)
        except (OSError, ValueError):
            cached = {}
        pid = cached.get("pid", 0)
        if not pid or _start_time(pid) != cached.get("start"):
            out = subprocess.run([self.get_option("podman_executable"), "inspect", "--format",
                                  "{{.State.Pid}}", name], capture_output=True, text=True, check=False)
            text = out.stdout.strip() if out.returncode == 0 else ""
            pid = int(text) if text.isdigit() else 0
            start = _start_time(pid) if pid > 0 else None
            if start is None:
                return None
            os.makedirs(_CACHE_DIR, mode=0o700, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=_CACHE_DIR, delete=False, encoding="utf-8") as handle:
                json.dump({"pid": pid, "start": start}, handle)
            os.replace(handle.name, cache)
        try:
            self._tm_init = (pid, _init_environment(pid))
        except OSError:
            self._tm_init = None
        return self._tm_init

    def _nsenter(self, init, argv, in_data=None):
        proc = subprocess.run([NSENTER, "--target", str(init[0]), "--all", "--"] + argv,
                              env=init[1], input=in_data if in_data is not None else b"",
                              capture_output=True, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    def exec_command(self, cmd, in_data=None, sudoable=False):
        if not self._connected:
            self._connect()
        ConnectionBase.exec_command(self, cmd, in_data=in_data, sudoable=sudoable)
        init = self._container_init()
        if init is not None:
            return self._nsenter(init, shlex.split(to_native(cmd, errors="surrogate_or_strict")), in_data)
        args = ["exec"]
        if in_data is not None:
            args.append("-i")
        if self.user:
            args += ["--user", self.user]
        return self._podman(args, shlex.split(to_native(cmd, errors="surrogate_or_strict")), in_data)

    def put_file(self, in_path, out_path):
        init = self._container_init()
        if init is None:
            self._mount()
            return super().put_file(in_path, out_path)
        ConnectionBase.put_file(self, in_path, out_path)
        with open(to_bytes(in_path, errors="surrogate_or_strict"), "rb") as handle:
            data = handle.read()
        rc, _out, err = self._nsenter(init, ["/bin/sh", "-c", 'cat > "$1"', "sh", out_path], data)
        if rc != 0:
            raise AnsibleError("Failed to copy %s to %s in container %s: %s"
                               % (in_path, out_path, self.get_option("remote_addr"), to_native(err)))
        return None

    def fetch_file(self, in_path, out_path):
        init = self._container_init()
        if init is None:
            self._mount()
            return super().fetch_file(in_path, out_path)
        ConnectionBase.fetch_file(self, in_path, out_path)
        rc, out, err = self._nsenter(init, ["/bin/cat", "--", in_path])
        if rc != 0:
            raise AnsibleError("Failed to fetch %s from container %s: %s"
                               % (in_path, self.get_option("remote_addr"), to_native(err)))
        with open(to_bytes(out_path, errors="surrogate_or_strict"), "wb") as handle:
            handle.write(out)
        return None
