"""testinfra's podman backend, with each command entered through nsenter instead of podman exec.

The checks reach the harness's containers by name (``podman://tm-<scenario>-<role>``).
``podman exec`` costs about 0.14 s of wall time and 50 ms of controller CPU per command
here (podman's own start, conmon, runc exec); a check runs several commands, an audit of
one host several hundred. nsenter into the namespaces of the container's init process
costs about 4 ms, closer to what a command costs over a persistent SSH connection on a
real server. The command sees what podman exec shows it: the container's root, mounts,
network, PID and IPC namespaces, hostname, and the environment of the container's init.
Differences: the process keeps the controller's cgroup and capability set (podman exec
would apply the container's), which read-only checks do not notice.

``host_for`` picks the backend for an inventory host (this one for podman connections,
testinfra's ansible backend for the rest); the checks' conftest and ``scripts/tm-audit``
both reach hosts through it.

Falls back to podman exec when nsenter cannot be used: not root, a ``user@container``
spec, or a container that is not running. The init's PID is looked up once and checked
against its start time before every command, so a restarted container is found again.
"""

import os
import subprocess

import testinfra
from testinfra.backend import BACKENDS
from testinfra.backend.podman import PodmanBackend

NSENTER = "/usr/bin/nsenter"
# Ansible connections that reach a podman container (tm_podman: tests/harness/connection_plugins)
PODMAN_CONNECTIONS = ("containers.podman.podman", "podman", "tm_podman")


def _start_time(pid):
    """The start time of process PID (clock ticks since boot), or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


class NsenterBackend(PodmanBackend):
    """``podman`` as far as testinfra's modules can tell; commands run through nsenter."""

    def __init__(self, name, *args, **kwargs):
        super().__init__(name, *args, **kwargs)
        self._init = None  # (pid, start time, environment) of the container's init

    def _container_init(self):
        if self._init and _start_time(self._init[0]) == self._init[1]:
            return self._init
        self._init = None
        out = subprocess.run(["podman", "inspect", "--format", "{{.State.Pid}}", self.name],
                             capture_output=True, text=True, check=False)
        text = out.stdout.strip() if out.returncode == 0 else ""
        pid = int(text) if text.isdigit() else 0
        start = _start_time(pid) if pid > 0 else None
        if start is None:
            return None
        try:
            with open("/proc/%d/environ" % pid, "rb") as handle:
                pairs = [item.split(b"=", 1) for item in handle.read().split(b"\0") if b"=" in item]
        except OSError:
            return None
        self._init = (pid, start, {key.decode(): value.decode(errors="replace") for key, value in pairs})
        return self._init

    def run(self, command, *args, **kwargs):
        init = None
        if self.user is None and os.geteuid() == 0 and os.access(NSENTER, os.X_OK):
            init = self._container_init()
        if init is None:
            return super().run(command, *args, **kwargs)
        cmd = self.get_command(command, *args)
        proc = subprocess.run([NSENTER, "--target", str(init[0]), "--all", "/bin/sh", "-c", cmd],
                              env=init[2], stdin=subprocess.DEVNULL, capture_output=True, check=False)
        return self.result(proc.returncode, self.encode(cmd), proc.stdout, proc.stderr)


def host_for(inventory, name, hostvars):
    """A testinfra host for inventory host NAME, reached as its variables (HOSTVARS) say.

    testinfra's ansible backend knows no podman connection; the podman backend (this
    module's) reaches the same container, named by ansible_host or the host's name.
    """
    if hostvars.get("ansible_connection") in PODMAN_CONNECTIONS:
        return testinfra.get_host("podman://%s" % hostvars.get("ansible_host", name))
    return testinfra.get_host("ansible://%s" % name, ansible_inventory=inventory)


BACKENDS["podman"] = "nsenter_backend.NsenterBackend"
