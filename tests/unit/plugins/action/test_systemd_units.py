# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the stanford.trusted_mail.systemd_units action.

The decisions (``plan``) are checked against what ansible.builtin.systemd_service decides for
the same unit states; the action with ``run_argv`` replaced by canned ``systemctl`` answers,
because the controller may not run systemd. Against real systemd the action runs in every
molecule scenario.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.stanford.trusted_mail.plugins.action import systemd_units as su


def status(unit_file='enabled', active='active', load='loaded'):
    return {'LoadState': load, 'UnitFileState': unit_file, 'ActiveState': active}


@pytest.mark.parametrize('unit_file, active, enabled, state, verbs', [
    ('enabled', 'active', True, 'started', []),
    ('disabled', 'inactive', True, 'started', ['enable', 'start']),
    ('static', 'activating', True, 'started', []),
    ('generated', 'active', True, None, ['enable']),
    ('enabled-runtime', 'active', True, None, ['enable']),
    ('indirect', 'active', True, None, ['enable']),
    ('alias', 'active', True, None, ['enable']),
    ('enabled', 'failed', None, 'started', ['start']),
    ('enabled', 'active', False, 'stopped', ['disable', 'stop']),
    ('disabled', 'deactivating', None, 'stopped', ['stop']),
    ('disabled', 'inactive', False, 'stopped', []),
    ('enabled', 'active', None, 'restarted', ['restart']),
    ('enabled', 'active', None, 'reloaded', ['reload']),
    ('enabled', 'inactive', None, 'restarted', ['start']),
    ('enabled', 'failed', None, 'reloaded', ['start']),
])
def test_plan_decides_as_systemd_service(unit_file, active, enabled, state, verbs):
    assert su.plan(status(unit_file, active), enabled, state) == verbs


class Host:
    """Answers systemctl commands like a host whose unit has STATUS; records what was run."""

    def __init__(self, unit_status, fail_verb=None, is_enabled=(0, 'enabled')):
        self.status = unit_status
        self.fail_verb = fail_verb
        self.is_enabled = is_enabled
        self.commands = []

    def __call__(self, action, argv, environment=None):
        assert argv[0] == 'systemctl' and environment == su.ENV
        self.commands.append(argv[1:])
        if argv[1] == 'show':
            out = '\n'.join('%s=%s' % item for item in self.status.items())
            return dict(rc=0, stdout=out, stderr='')
        if argv[1] == 'is-enabled':
            return dict(rc=self.is_enabled[0], stdout=self.is_enabled[1], stderr='')
        if argv[1] == self.fail_verb:
            return dict(rc=1, stdout='', stderr='Job for x.service failed.')
        return dict(rc=0, stdout='', stderr='')


def run(args, host, check_mode=False):
    task = mock.Mock(args=args, async_val=0, check_mode=check_mode)
    action = su.ActionModule(task, mock.Mock(), mock.Mock(), loader=None, templar=None, shared_loader_obj=None)
    with mock.patch.object(su, 'run_argv', host):
        return action.run(task_vars={})


class TestAction:
    def test_enable_and_start_in_that_order(self):
        host = Host(status('disabled', 'inactive'))
        result = run({'name': 'ssh', 'enabled': True, 'state': 'started', 'daemon_reload': True}, host)
        assert host.commands == [['daemon-reload'], ['show', '--property=LoadState,UnitFileState,ActiveState', '--', 'ssh'],
                                 ['enable', '--', 'ssh'], ['start', '--', 'ssh']]
        assert result['changed'] and result['actions'] == ['enable', 'start']
        assert result['status'] == status('disabled', 'inactive') and result['state'] == 'started' and result['enabled'] is True

    def test_nothing_to_do(self):
        host = Host(status())
        result = run({'name': 'ssh', 'enabled': 'yes', 'state': 'started'}, host)
        assert not result['changed'] and len(host.commands) == 1

    def test_check_mode_reports_and_runs_nothing(self):
        host = Host(status('disabled', 'inactive'))
        result = run({'name': 'ssh', 'enabled': True, 'state': 'restarted', 'daemon_reload': True}, host, check_mode=True)
        assert result['changed'] and result['actions'] == ['enable', 'start']
        assert [command[0] for command in host.commands] == ['show']

    def test_unknown_unit_fails(self):
        with pytest.raises(AnsibleActionFail, match='could not find the requested unit nothere'):
            run({'name': 'nothere', 'state': 'started'}, Host(status('', 'inactive', 'not-found')))

    def test_unknown_unit_fails_in_check_mode_too(self):
        with pytest.raises(AnsibleActionFail, match='could not find the requested unit nothere'):
            run({'name': 'nothere', 'state': 'started'}, Host(status('', 'inactive', 'not-found')), check_mode=True)

    @pytest.mark.parametrize('rc, answer, verbs', [(0, 'enabled', []), (1, 'disabled', ['enable']), (0, 'alias', ['enable'])])
    def test_a_generated_unit_is_asked_with_is_enabled(self, rc, answer, verbs):
        host = Host(status('generated', 'active'), is_enabled=(rc, answer))
        result = run({'name': 'exim4', 'enabled': True}, host)
        assert ['is-enabled', '--', 'exim4'] in host.commands and result['actions'] == verbs

    def test_failed_start_fails_with_systemctl_message(self):
        with pytest.raises(AnsibleActionFail, match=r'systemctl start -- x failed \(rc 1\): Job for x.service failed'):
            run({'name': 'x', 'state': 'started'}, Host(status('enabled', 'failed'), fail_verb='start'))

    @pytest.mark.parametrize('args, message', [
        ({'name': ['a', 'b'], 'state': 'started'}, 'one unit name'),
        ({'name': '-a', 'state': 'started'}, 'one unit name'),
        ({'name': 'a*', 'state': 'started'}, 'one unit name'),
        ({'name': 'a', 'state': 'running'}, 'state must be one of'),
        ({'name': 'a', 'enabled': 'maybe'}, 'enabled must be a boolean'),
        ({'name': 'a'}, 'give enabled, state or daemon_reload'),
    ])
    def test_bad_arguments(self, args, message):
        with pytest.raises(AnsibleActionFail, match=message):
            run(args, Host(status()))
