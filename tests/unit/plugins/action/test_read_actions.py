# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the actions that read the host without a module run.

- ``host_command.run_argv`` builds a shell command line; here it is run by a real ``/bin/sh``
  with ansible-core's own ``sh`` shell plugin, so quoting and the order of the environment are
  what a managed host's shell would see.
- ``read_command`` runs end to end under ``ansible-playbook -c local`` (check mode included).
- ``systemd_units_info``: the parser on canned ``systemctl show`` output, and the action with
  ``run_argv`` replaced, because the controller here may not run systemd as its init. Against
  real systemd it runs in every molecule scenario.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys
from unittest import mock

import pytest

from ansible.errors import AnsibleActionFail
from ansible.plugins.loader import shell_loader

from ansible_collections.stanford.trusted_mail.plugins.action import systemd_units_info as sui_action
from ansible_collections.stanford.trusted_mail.plugins.plugin_utils import host_command
from ansible_collections.stanford.trusted_mail.plugins.plugin_utils import systemd_units as sui

REPO = os.path.realpath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
PLAYBOOK_BIN = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')


# -- run_argv and check_argv ---------------------------------------------------


class ShellAction:
    """Just what run_argv uses of an ActionBase; commands run in a local /bin/sh."""

    def __init__(self, task_environment=''):
        self._connection = mock.Mock()
        self._connection._shell = shell_loader.get('sh')
        self._task_environment = task_environment
        self.commands = []

    def _compute_environment_string(self):
        return self._task_environment

    def _low_level_execute_command(self, cmd):
        self.commands.append(cmd)
        proc = subprocess.run(['/bin/sh', '-c', cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env={'PATH': os.environ['PATH']}, check=False)
        out, err = proc.stdout.decode('utf-8', 'replace'), proc.stderr.decode('utf-8', 'replace')
        return dict(rc=proc.returncode, stdout=out, stdout_lines=out.splitlines(), stderr=err, stderr_lines=err.splitlines())


class TestRunArgv:
    def test_every_word_arrives_as_given(self):
        words = ['a b', '*', "it's", '"$HOME"', '$(touch /tmp/never)', 'semi;colon', 'new\nline', '', 'ü']
        result = host_command.run_argv(ShellAction(), ['printf', '[%s]\\n'] + words)
        assert result['rc'] == 0
        assert result['stdout'] == ''.join('[%s]\n' % word for word in words).rstrip('\n')

    def test_line_ends_at_the_end_are_cut_as_command_does(self):
        result = host_command.run_argv(ShellAction(), ['sh', '-c', 'printf "one\\n\\ntwo\\r\\n\\n"; printf "err\\n" >&2'])
        assert result['stdout'] == 'one\n\ntwo' and result['stdout_lines'] == ['one', '', 'two']
        assert result['stderr'] == 'err' and result['stderr_lines'] == ['err']

    def test_exit_code(self):
        assert host_command.run_argv(ShellAction(), ['sh', '-c', 'exit 3'])['rc'] == 3

    def test_the_task_environment_wins_over_the_plugin_default(self):
        action = ShellAction(task_environment="FOO='from task'")
        result = host_command.run_argv(action, ['sh', '-c', 'printf "%s|%s" "$FOO" "$BAR"'],
                                       environment={'FOO': 'default', 'BAR': 'x y'})
        assert result['stdout'] == 'from task|x y'
        assert action.commands[0].startswith("FOO=default BAR='x y' FOO='from task' ")

    def test_argv_words(self):
        assert host_command.check_argv(['echo', 1, 2.5], 'p') == ['echo', '1', '2.5']

    @pytest.mark.parametrize('argv', [None, [], 'echo hi', ['echo', True], ['echo', None], ['echo', ['x']],
                                      ['echo', 'a\x00b'], ['']])
    def test_bad_argv(self, argv):
        with pytest.raises(AnsibleActionFail, match='^p: '):
            host_command.check_argv(argv, 'p')


# -- read_command under ansible-playbook -------------------------------------------


def collections_path(tmp_path):
    built = os.path.join(REPO, 'build', 'collections')
    link = os.path.join(built, 'ansible_collections', 'stanford', 'trusted_mail')
    if os.path.isdir(link) and os.path.realpath(link) == REPO:
        return built
    namespace = tmp_path / 'collections' / 'ansible_collections' / 'stanford'
    namespace.mkdir(parents=True)
    os.symlink(REPO, str(namespace / 'trusted_mail'))
    return str(tmp_path / 'collections')


PLAYBOOK = """\
- name: Test read_command
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Words, environment, output and exit code
      stanford.trusted_mail.read_command:
        argv: [sh, -c, 'printf "%s|%s\\n\\n" "$1" "$FOO"; echo warn >&2; exit 3', sh, "a b*'$x", 7]
      environment:
        FOO: from task
      register: words
      failed_when: words.rc != 3

    - name: A non-zero exit fails the task
      stanford.trusted_mail.read_command:
        argv: ['false']
      register: fails
      ignore_errors: true

    - name: Save the results
      ansible.builtin.copy:
        content: "{{ {'words': words, 'fails': fails} | to_json }}"
        dest: "{{ out }}"
        mode: "0600"
      check_mode: false
"""


@pytest.mark.skipif(not os.path.exists(PLAYBOOK_BIN), reason='ansible-playbook not installed next to %s' % sys.executable)
@pytest.mark.parametrize('check', [False, True], ids=['run', 'check-mode'])
def test_read_command_playbook(tmp_path, check):
    (tmp_path / 'site.yml').write_text(PLAYBOOK)
    out = tmp_path / 'out.json'
    env = {key: value for key, value in os.environ.items() if not key.startswith('ANSIBLE_')}
    env.update(ANSIBLE_COLLECTIONS_PATH=collections_path(tmp_path), ANSIBLE_NOCOLOR='1',
               ANSIBLE_LOCAL_TEMP=str(tmp_path / 'tmp'), ANSIBLE_STDOUT_CALLBACK='ansible.builtin.default')
    cmd = [PLAYBOOK_BIN, '-i', 'localhost,', '-c', 'local', '-e', 'out=%s' % out,
           '-e', 'ansible_python_interpreter=%s' % sys.executable, 'site.yml'] + (['--check'] if check else [])
    proc = subprocess.run(cmd, cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    log = proc.stdout.decode('utf-8', 'replace')
    assert proc.returncode == 0, log
    results = json.loads(out.read_text())
    words = results['words']
    assert words['cmd'] == ['sh', '-c', 'printf "%s|%s\\n\\n" "$1" "$FOO"; echo warn >&2; exit 3', 'sh', "a b*'$x", '7']
    assert (words['rc'], words['stdout'], words['stderr'], words['changed']) == (3, "a b*'$x|from task", 'warn', False)
    assert results['fails']['failed'] is True and results['fails']['rc'] == 1
    assert 'non-zero return code 1' in results['fails']['msg']


# -- systemd_units_info ------------------------------------------------------------


class TestParseShow:
    def test_blocks_map_to_units_in_order(self):
        text = ('LoadState=loaded\nActiveState=active\nUnitFileState=enabled\n\n'
                'LoadState=not-found\nActiveState=inactive\nUnitFileState=\n\n'
                'LoadState=loaded\nActiveState=failed\nUnitFileState=disabled\n')
        states = sui.parse_show(text, ['a.service', 'b.service', 'c.timer'])
        assert states == {
            'a.service': {'load': 'loaded', 'enabled': 'enabled', 'active': 'active'},
            'b.service': {'load': 'not-found', 'enabled': '', 'active': 'inactive'},
            'c.timer': {'load': 'loaded', 'enabled': 'disabled', 'active': 'failed'},
        }
        assert sui.enabled_active(states, ['c.timer', 'a.service']) == ['a.service']

    def test_missing_property_is_empty_and_others_ignored(self):
        states = sui.parse_show('ActiveState=active\nId=a.service\n', ['a.service'])
        assert states == {'a.service': {'load': '', 'enabled': '', 'active': 'active'}}

    @pytest.mark.parametrize('text', ['', 'ActiveState=active\n', 'ActiveState=active\n\nActiveState=active\n\nActiveState=x\n'])
    def test_block_count_must_match(self, text):
        with pytest.raises(ValueError, match='blocks for 2 units'):
            sui.parse_show(text, ['a.service', 'b.service'])


def run_units_action(units, done=None):
    task = mock.Mock(args={'units': units}, async_val=0, check_mode=True)
    action = sui_action.ActionModule(task, mock.Mock(), mock.Mock(), loader=None, templar=None, shared_loader_obj=None)
    with mock.patch.object(sui_action, 'run_argv', return_value=done) as run:
        return action.run(task_vars={}), run


class TestUnitsAction:
    def test_no_units_runs_nothing(self):
        result, run = run_units_action([])
        assert (result['units'], result['enabled_active'], result['changed']) == ({}, [], False)
        run.assert_not_called()

    @pytest.mark.parametrize('unit', ['', '--all', 'a\nb.service', 3])
    def test_not_a_unit_name(self, unit):
        with pytest.raises(AnsibleActionFail, match='not unit names'):
            run_units_action(['ssh.service', unit])

    def test_not_a_list(self):
        with pytest.raises(AnsibleActionFail, match='must be a list'):
            run_units_action('ssh.service')

    def test_command_line_and_result_in_check_mode(self):
        out = 'LoadState=loaded\nActiveState=active\nUnitFileState=enabled\n\nLoadState=loaded\nActiveState=inactive\nUnitFileState=enabled'
        result, run = run_units_action(['ssh.service', 'x.timer'], dict(rc=0, stdout=out, stderr=''))
        argv = run.call_args[0][1]
        assert argv == ['systemctl', 'show', '--property=LoadState,UnitFileState,ActiveState', '--', 'ssh.service', 'x.timer']
        assert run.call_args[1]['environment'] == {'LC_ALL': 'C', 'SYSTEMD_PAGER': ''}
        assert result['enabled_active'] == ['ssh.service'] and result['units']['x.timer']['active'] == 'inactive'
        assert not result.get('failed')

    def test_systemctl_fails(self):
        result, _run = run_units_action(['ssh.service'], dict(rc=1, stdout='', stderr='System has not been booted with systemd\n'))
        assert result['failed'] and result['rc'] == 1 and 'is systemd the init system' in result['msg']

    def test_output_that_does_not_match_the_units(self):
        result, _run = run_units_action(['a.service', 'b.service'], dict(rc=0, stdout='ActiveState=active', stderr=''))
        assert result['failed'] and 'blocks for 2 units' in result['msg']
