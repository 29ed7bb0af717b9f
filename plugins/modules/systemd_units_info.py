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
  - An action plugin sends the C(systemctl show) command through the connection and parses its
    output on the controller, so no module runs on the host (see
    M(stanford.trusted_mail.read_command) for what a module run costs).
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
extends_documentation_fragment:
  - stanford.trusted_mail.host_command
notes:
  - Needs systemd as the init system (C(systemctl show) must work), and a POSIX shell as the
    connection's shell.
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
