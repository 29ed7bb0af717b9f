# -*- coding: utf-8 -*-

# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of stanford.trusted_mail.systemd_units (the module file holds the documentation).

The unit's state is read with one ``systemctl show`` and changed with ``systemctl``
commands, all through the connection's shell: no module runs on the host. The decisions are
those of ansible.builtin.systemd_service for the options given.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.stanford.trusted_mail.plugins.plugin_utils.host_command import run_argv
from ansible_collections.stanford.trusted_mail.plugins.plugin_utils.systemd_units import (
    PROPERTIES,
    SYSTEMCTL_ENV as ENV,
    bad_unit_names,
)

NAME = 'systemd_units'
STATES = ('started', 'stopped', 'restarted', 'reloaded')
# The properties systemd_units_info reads, returned under systemctl's own names.
STATUS = tuple(PROPERTIES)
# UnitFileState values systemd_service takes for "enabled": what `systemctl is-enabled`
# answers with exit code 0, less enabled-runtime, indirect and alias (enabled anew).
# A generated unit (a SysV script) is asked with is-enabled, as systemd_service does.
ENABLED = ('enabled', 'static', 'transient')
RUNNING = ('active', 'activating')


def plan(status, enabled, state, is_enabled=None):
    """The systemctl verbs (in order) that bring a unit with STATUS to ENABLED and STATE.

    IS_ENABLED is what `systemctl is-enabled` said of a generated unit, as (rc, output).
    """
    verbs = []
    now_enabled = status.get('UnitFileState') in ENABLED
    if is_enabled is not None:
        now_enabled = is_enabled[0] == 0 and is_enabled[1] not in ('enabled-runtime', 'indirect', 'alias')
    if enabled is not None and now_enabled != enabled:
        verbs.append('enable' if enabled else 'disable')
    if state is not None:
        active = status.get('ActiveState', '')
        if state == 'started':
            if active not in RUNNING:
                verbs.append('start')
        elif state == 'stopped':
            if active in RUNNING or active == 'deactivating':
                verbs.append('stop')
        elif active not in RUNNING:
            verbs.append('start')
        else:
            verbs.append(state[:-2])  # restart, reload
    return verbs


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('name', 'enabled', 'state', 'daemon_reload'))

    def _args(self):
        args = self._task.args
        name = args.get('name')
        if not isinstance(name, str) or bad_unit_names([name]) or '*' in name:
            raise AnsibleActionFail('%s: name must be one unit name (no glob), got %r' % (NAME, name))
        enabled = args.get('enabled')
        if enabled is not None:
            try:
                enabled = boolean(enabled, strict=True)
            except TypeError:
                raise AnsibleActionFail('%s: enabled must be a boolean, got %r' % (NAME, enabled))
        state = args.get('state')
        if state is not None and state not in STATES:
            raise AnsibleActionFail('%s: state must be one of %s, got %r' % (NAME, ', '.join(STATES), state))
        try:
            daemon_reload = boolean(args.get('daemon_reload', False), strict=True)
        except TypeError:
            raise AnsibleActionFail('%s: daemon_reload must be a boolean, got %r' % (NAME, args.get('daemon_reload')))
        if enabled is None and state is None and not daemon_reload:
            raise AnsibleActionFail('%s: give enabled, state or daemon_reload' % NAME)
        return name, enabled, state, daemon_reload

    def _systemctl(self, *words):
        done = run_argv(self, ['systemctl'] + list(words), environment=ENV)
        if done['rc'] != 0:
            raise AnsibleActionFail('%s: systemctl %s failed (rc %d): %s' % (
                NAME, ' '.join(words), done['rc'], (done['stderr'] or done['stdout']).strip()))
        return done['stdout']

    def run(self, tmp=None, task_vars=None):
        if task_vars is None:
            task_vars = {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        name, enabled, state, daemon_reload = self._args()
        check_mode = self._task.check_mode
        if daemon_reload and not check_mode:
            self._systemctl('daemon-reload')
        status = {}
        for line in self._systemctl('show', '--property=' + ','.join(STATUS), '--', name).splitlines():
            key, sep, value = line.partition('=')
            if sep:
                status[key] = value
        result.update(name=name, changed=False, status=status)
        if enabled is None and state is None:
            return result
        if status.get('LoadState') in (None, '', 'not-found'):
            # As systemd_service, in check mode too.
            raise AnsibleActionFail('%s: could not find the requested unit %s on the host' % (NAME, name))
        is_enabled = None
        if enabled is not None and status.get('UnitFileState') == 'generated':
            done = run_argv(self, ['systemctl', 'is-enabled', '--', name], environment=ENV)
            is_enabled = (done['rc'], done['stdout'].strip())
        verbs = plan(status, enabled, state, is_enabled)
        if enabled is not None:
            result['enabled'] = enabled
        if state is not None:
            result['state'] = 'stopped' if state == 'stopped' else 'started'
        result.update(changed=bool(verbs), actions=verbs)
        if not check_mode:
            for verb in verbs:
                self._systemctl(verb, '--', name)
        return result
