# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the read that lets stanford.trusted_mail.file_set skip its module run.

The read's shell command runs for real against files in tmp_path (through a local /bin/sh,
with ansible-core's sh shell plugin), and every way a path can differ from its entry must
send the task to the module. The whole action, read and module, runs under ansible-playbook
in test_file_set_playbook.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import os
import pwd
import subprocess
from unittest import mock

import pytest

from ansible.plugins.loader import shell_loader

from ansible_collections.stanford.trusted_mail.plugins.action import file_set

USER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name


class LocalAction(file_set.ActionModule):
    """The action with its connection replaced by a local /bin/sh."""

    def __init__(self):  # pylint: disable=super-init-not-called
        self._connection = mock.Mock()
        self._connection._shell = shell_loader.get('sh')
        self.reads = 0

    def _compute_environment_string(self):
        return ''

    def _low_level_execute_command(self, cmd):
        self.reads += 1
        proc = subprocess.run(['/bin/sh', '-c', cmd], capture_output=True, text=True, check=False)
        return dict(rc=proc.returncode, stdout=proc.stdout, stdout_lines=proc.stdout.splitlines(),
                    stderr=proc.stderr, stderr_lines=proc.stderr.splitlines())


@pytest.fixture
def tree(tmp_path):
    (tmp_path / 'dir').mkdir(mode=0o750)
    os.chmod(str(tmp_path / 'dir'), 0o750)
    (tmp_path / 'dir' / 'a.conf').write_text('one\nzwei ü\n')
    os.chmod(str(tmp_path / 'dir' / 'a.conf'), 0o640)
    (tmp_path / 'dir' / 'empty').write_text('')
    os.chmod(str(tmp_path / 'dir' / 'empty'), 0o600)
    return tmp_path


def args(tree, **changes):
    files = [dict(dest=str(tree / 'dir' / 'a.conf'), content='one\nzwei ü\n', mode='0640', owner=USER, group=GROUP),
             dict(dest=str(tree / 'dir' / 'empty'), content='', mode='600', owner=USER, group=GROUP)]
    directories = [dict(path=str(tree / 'dir'), mode='0750', owner=USER, group=GROUP)]
    for key, value in changes.items():
        kind, index, option = key.split('__')
        (files if kind == 'file' else directories)[int(index)][option] = value
    return {'files': files, 'directories': directories}


def test_everything_as_listed(tree):
    action = LocalAction()
    assert action._unchanged(args(tree)) is True
    assert action.reads == 1


def test_numeric_owner_and_group(tree):
    assert LocalAction()._unchanged(args(tree, file__0__owner=str(os.getuid()), file__0__group=str(os.getgid()))) is True


@pytest.mark.parametrize('changes', [
    {'file__0__content': 'one\nzwei u\n'},
    {'file__1__content': '\n'},
    {'file__0__mode': '0644'},
    {'file__0__owner': 'nobody'},
    {'file__0__group': 'nogroup'},
    {'dir__0__mode': '0755'},
    {'dir__0__owner': 'nobody'},
    {'file__0__mode': '644x'},
], ids=lambda changes: ','.join(changes))
def test_any_difference_goes_to_the_module(tree, changes):
    assert LocalAction()._unchanged(args(tree, **changes)) is False


def test_only_if_missing_leaves_the_directory_attributes_alone(tree):
    assert LocalAction()._unchanged(args(tree, dir__0__mode='0700', dir__0__only_if_missing=True)) is True


def test_a_missing_file_or_a_link_in_its_place_goes_to_the_module(tree):
    missing = args(tree)
    missing['files'][1]['dest'] = str(tree / 'dir' / 'not-there')
    assert LocalAction()._unchanged(missing) is False
    os.symlink(str(tree / 'dir' / 'a.conf'), str(tree / 'link'))
    linked = args(tree)
    linked['files'][0]['dest'] = str(tree / 'link')
    assert LocalAction()._unchanged(linked) is False


def test_a_directory_where_a_file_is_listed_and_the_other_way_round(tree):
    swapped = args(tree)
    swapped['files'][0]['dest'], swapped['directories'][0]['path'] = str(tree / 'dir'), str(tree / 'dir' / 'a.conf')
    assert LocalAction()._unchanged(swapped) is False


def test_a_path_listed_twice_goes_to_the_module_without_a_read(tree):
    twice = args(tree)
    twice['files'][1]['dest'] = twice['files'][0]['dest']
    action = LocalAction()
    assert action._unchanged(twice) is False and action.reads == 0


def test_a_read_that_fails_goes_to_the_module(tree):
    action = LocalAction()
    with mock.patch.object(file_set, 'run_argv', return_value=dict(rc=1, stdout='', stderr='boom')):
        assert action._unchanged(args(tree)) is False
    odd = 'directory|750|0|0|root|root|-\n'  # fewer lines than paths
    with mock.patch.object(file_set, 'run_argv', return_value=dict(rc=0, stdout=odd, stderr='')):
        assert action._unchanged(args(tree)) is False


def test_permissions_compare_everything_but_the_content(tree):
    action = LocalAction()
    entry = dict(path=str(tree / 'dir' / 'a.conf'), mode='0640', owner=USER, group=GROUP)
    assert action._unchanged({'permissions': [entry]}) is True
    assert action._unchanged({'permissions': [dict(entry, mode='0600')]}) is False
    assert action._unchanged({'permissions': [dict(entry, path=str(tree / 'dir' / 'missing'), create=True)]}) is False
    assert action._unchanged({'permissions': [dict(entry, path=str(tree / 'dir'))]}) is False
    os.symlink(str(tree / 'dir' / 'a.conf'), str(tree / 'dir' / 'link'))
    assert action._unchanged({'permissions': [dict(entry, path=str(tree / 'dir' / 'link'))]}) is False


def test_direct_params_take_the_module_defaults_and_conversions():
    params = file_set._direct_params({
        'files': [{'dest': '/etc/a', 'content': 'x', 'mode': '0644', 'owner': 0}],
        'directories': [{'path': '/etc/d', 'mode': '0755'}],
        'permissions': [{'path': '/var/log/l', 'mode': '0640', 'group': 'adm'}],
    })
    assert params['files'] == [{'dest': '/etc/a', 'content': 'x', 'mode': '0644', 'owner': '0', 'group': 'root', 'validate': None}]
    assert params['directories'] == [{'path': '/etc/d', 'mode': '0755', 'owner': 'root', 'group': 'root', 'only_if_missing': False}]
    assert params['permissions'] == [{'path': '/var/log/l', 'mode': '0640', 'owner': 'root', 'group': 'adm', 'create': False}]


@pytest.mark.parametrize('args', [
    {'files': [{'dest': '/etc/a', 'content': 'x', 'mode': '0644', 'owner': ['root']}]},
    {'files': [{'dest': '/etc/a', 'content': 'x', 'mode': '0644', 'validate': 42}]},
    {'directories': [{'path': '/etc/d', 'mode': '0755', 'only_if_missing': 'yes'}]},
    {'permissions': [{'path': '/var/log/l', 'mode': '0640', 'create': 1}]},
])
def test_direct_params_leave_anything_unusual_to_the_module(args):
    assert file_set._direct_params(args) is None
