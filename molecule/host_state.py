"""What a refused run must leave alone: one fingerprint of a host's state, shared by the
bad-input checks of every scenario (molecule/*/inputs)."""


def snapshot(host, *extra_commands):
    """Hashes of the package set and of everything in /etc (names, sizes, times, modes),
    plus the output of any ``extra_commands`` (e.g. the loaded firewall ruleset)."""
    commands = [
        "dpkg-query -W -f='${Package} ${Version} ${db:Status-Abbrev}\\n' | sha256sum",
        "find /etc -xdev -printf '%p %s %T@ %m\\n' | sort | sha256sum",
    ] + ["%s | sha256sum" % command for command in extra_commands]
    return host.check_output("; ".join(commands))
