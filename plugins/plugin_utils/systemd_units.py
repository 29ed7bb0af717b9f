# -*- coding: utf-8 -*-

# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse ``systemctl show`` output for stanford.trusted_mail.systemd_units_info."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# systemctl property -> key in the result
PROPERTIES = {"LoadState": "load", "UnitFileState": "enabled", "ActiveState": "active"}
# The environment of every systemctl command the actions send: plain output, no pager.
SYSTEMCTL_ENV = {"LC_ALL": "C", "SYSTEMD_PAGER": ""}


def bad_unit_names(units):
    """The entries of UNITS that cannot be unit names (and could be read as options)."""
    return [unit for unit in units if not isinstance(unit, str) or not unit or unit.startswith("-") or "\n" in unit]


def show_argv(units):
    """The one ``systemctl show`` command that reads PROPERTIES of every unit in UNITS."""
    return ["systemctl", "show", "--property=" + ",".join(PROPERTIES), "--"] + list(units)


def parse_show(text, units):
    """Map each of UNITS to its properties from ``systemctl show``'s output, one block per unit in order."""
    blocks = text.strip("\n").split("\n\n") if text.strip() else []
    if len(blocks) != len(units):
        raise ValueError("systemctl show returned %d blocks for %d units" % (len(blocks), len(units)))
    states = {}
    for unit, block in zip(units, blocks):
        values = dict.fromkeys(PROPERTIES.values(), "")
        for line in block.splitlines():
            key, sep, value = line.partition("=")
            if sep and key in PROPERTIES:
                values[PROPERTIES[key]] = value
        states[unit] = values
    return states


def enabled_active(states, units):
    """The units of UNITS that are both enabled and active, in the order of UNITS."""
    return [unit for unit in units if states[unit]["enabled"] == "enabled" and states[unit]["active"] == "active"]
