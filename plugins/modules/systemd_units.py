#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: systemd_units
short_description: Keep a systemd unit enabled, started, stopped, restarted or reloaded, without a module run
version_added: "0.4.0"
description:
  - Does what M(ansible.builtin.systemd_service) does for the options below, with the same
    decisions (which unit file states count as enabled, when a restart or reload only starts
    the unit), through C(systemctl) commands sent over the connection. No Python module runs
    on the host, which saves the 0.2 s of CPU a module run costs there before it starts (see
    M(stanford.trusted_mail.read_command)).
  - Reads the unit with one C(systemctl show), then runs only the C(systemctl) commands needed,
    C(enable) or C(disable) first, then C(start), C(stop), C(restart) or C(reload).
  - Only units of the system manager; no masking, no user scope.
author:
  - Stanford trusted_mail maintainers
options:
  name:
    description:
      - One unit name. Without a suffix, systemd takes C(.service).
    type: str
    required: true
  enabled:
    description:
      - Whether the unit starts at boot. C(static) and C(transient) units count as enabled;
        C(enabled-runtime), C(indirect) and C(alias) units are enabled anew, as
        M(ansible.builtin.systemd_service) does. For a C(generated) unit (a SysV script) C(systemctl
        is-enabled) is asked, as that module does.
    type: bool
  state:
    description:
      - V(started) and V(stopped) act only when needed. V(restarted) and V(reloaded) always
        act, and start a unit that is not running.
    type: str
    choices: [started, stopped, restarted, reloaded]
  daemon_reload:
    description:
      - Run C(systemctl daemon-reload) first (not in check mode), after unit files changed.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description:
      - Reports what would be done. A unit the host does not know fails the task, in check mode
        too, as with M(ansible.builtin.systemd_service).
  diff_mode:
    support: none
extends_documentation_fragment:
  - stanford.trusted_mail.host_command
notes:
  - The connection's shell must be a POSIX shell, and systemd the init system.
seealso:
  - module: ansible.builtin.systemd_service
  - module: stanford.trusted_mail.systemd_units_info
"""

EXAMPLES = r"""
- name: Keep sshd enabled and running
  stanford.trusted_mail.systemd_units:
    name: ssh
    enabled: true
    state: started

- name: Start the timer after its unit files changed
  stanford.trusted_mail.systemd_units:
    name: trusted-mail-access-review.timer
    enabled: true
    state: started
    daemon_reload: true
"""

RETURN = r"""
name:
  description: The unit, as given.
  returned: always
  type: str
  sample: ssh
status:
  description: The unit's C(LoadState), C(UnitFileState) and C(ActiveState) before the task acted.
  returned: always
  type: dict
  sample: {LoadState: loaded, UnitFileState: enabled, ActiveState: active}
actions:
  description: The C(systemctl) verbs run (in check mode, that would run), in order.
  returned: when enabled or state is given and the unit exists
  type: list
  elements: str
  sample: [enable, start]
enabled:
  description: O(enabled), as the unit now is.
  returned: when enabled is given and the unit exists
  type: bool
state:
  description: V(started) or V(stopped), as the unit now is.
  returned: when state is given and the unit exists
  type: str
"""
