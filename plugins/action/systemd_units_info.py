# -*- coding: utf-8 -*-

# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of stanford.trusted_mail.systemd_units_info (the module file holds the documentation).

One ``systemctl show`` through the connection's shell, parsed on the controller.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.stanford.trusted_mail.plugins.plugin_utils.host_command import run_argv
from ansible_collections.stanford.trusted_mail.plugins.plugin_utils.systemd_units import (
    SYSTEMCTL_ENV,
    bad_unit_names,
    enabled_active,
    parse_show,
    show_argv,
)

NAME = 'systemd_units_info'


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('units',))

    def run(self, tmp=None, task_vars=None):
        if task_vars is None:
            task_vars = {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        units = self._task.args.get('units')
        if not isinstance(units, list):
            raise AnsibleActionFail('%s: units must be a list of unit names, got %r' % (NAME, units))
        bad = bad_unit_names(units)
        if bad:
            raise AnsibleActionFail('%s: not unit names: %s' % (NAME, ', '.join(repr(unit) for unit in bad)))
        result.update(changed=False, units={}, enabled_active=[])
        if not units:
            return result
        # Read-only, so it runs in check mode too.
        done = run_argv(self, show_argv(units), environment=SYSTEMCTL_ENV)
        if done['rc'] != 0:
            return dict(result, failed=True, rc=done['rc'],
                        msg='systemctl show failed (is systemd the init system?): %s' % (done['stderr'] or done['stdout']).strip())
        try:
            states = parse_show(done['stdout'], units)
        except ValueError as exc:
            return dict(result, failed=True, msg=str(exc), stdout=done['stdout'])
        result.update(units=states, enabled_active=enabled_active(states, units))
        return result
