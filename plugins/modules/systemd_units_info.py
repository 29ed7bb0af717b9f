#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: systemd_units_info
short_description: Tell whether several systemd units are enabled and active, in one call
version_added: "0.1.0"
description:
  - Reads the unit file state and the active state of each unit in O(units) with one
    C(systemctl show) call, and returns them with the list of units that are both enabled and
    active.
  - Meant to run before tasks that keep units enabled and running, so that those tasks call
    systemd only for a unit that is not (a condition on RV(enabled_active), see the examples).
    One M(ansible.builtin.systemd_service) run per unit costs a module run each time, even when
    nothing changes.
  - Changes nothing on the host.
author:
  - Stanford trusted_mail maintainers
options:
  units:
    description:
      - Unit names with their suffix, for example C(ssh.service) or C(logrotate.timer).
      - A unit that systemd does not know is reported with RV(units.load) C(not-found), not as
        an error.
    type: list
    elements: str
    required: true
attributes:
  check_mode:
    support: full
    description:
      - The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
notes:
  - Needs systemd as the init system (C(systemctl show) must work).
seealso:
  - module: ansible.builtin.systemd_service
  - module: ansible.builtin.service_facts
"""

EXAMPLES = r"""
- name: Read the state of sshd and its timer
  stanford.trusted_mail.systemd_units_info:
    units: [ssh.service, trusted-mail-access-review.timer]
  register: _unit_states

- name: Keep sshd enabled and running
  ansible.builtin.systemd_service:
    name: ssh
    enabled: true
    state: started
  when: "'ssh.service' not in _unit_states.enabled_active"
"""

RETURN = r"""
units:
  description: Each requested unit with what systemd says of it.
  returned: always
  type: dict
  sample:
    ssh.service: {load: loaded, enabled: enabled, active: active}
    nothere.service: {load: not-found, enabled: "", active: inactive}
  contains:
    load:
      description: C(LoadState), for example C(loaded), C(not-found) or C(masked).
      type: str
    enabled:
      description:
        - C(UnitFileState), what C(systemctl is-enabled) prints, for example C(enabled),
          C(disabled), C(static) or C(masked); empty when there is no unit file.
      type: str
    active:
      description: C(ActiveState), for example C(active), C(inactive), C(failed) or C(activating).
      type: str
enabled_active:
  description: The requested units that are enabled and active, in the order of O(units).
  returned: always
  type: list
  elements: str
  sample: [ssh.service]
"""

from ansible.module_utils.basic import AnsibleModule

PROPERTIES = {"LoadState": "load", "UnitFileState": "enabled", "ActiveState": "active"}


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


def main():
    module = AnsibleModule(
        argument_spec=dict(units=dict(type="list", elements="str", required=True)),
        supports_check_mode=True,
    )
    units = module.params["units"]
    bad = [unit for unit in units if not unit or unit.startswith("-") or "\n" in unit]
    if bad:
        module.fail_json(msg="not unit names: %s" % ", ".join(repr(unit) for unit in bad))
    if not units:
        module.exit_json(changed=False, units={}, enabled_active=[])
    systemctl = module.get_bin_path("systemctl", required=True)
    rc, out, err = module.run_command(
        [systemctl, "show", "--property=" + ",".join(PROPERTIES), "--"] + units,
        environ_update={"LC_ALL": "C", "SYSTEMD_PAGER": ""})
    if rc != 0:
        module.fail_json(msg="systemctl show failed (is systemd the init system?): %s" % (err or out).strip(), rc=rc)
    try:
        states = parse_show(out, units)
    except ValueError as exc:
        module.fail_json(msg=str(exc), stdout=out)
    enabled_active = [unit for unit in units if states[unit]["enabled"] == "enabled" and states[unit]["active"] == "active"]
    module.exit_json(changed=False, units=states, enabled_active=enabled_active)


if __name__ == "__main__":
    main()
