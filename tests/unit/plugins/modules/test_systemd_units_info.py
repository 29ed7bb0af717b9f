# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for stanford.trusted_mail.systemd_units_info.

The parser is tested on canned ``systemctl show`` output and the module's ``main()`` with
``run_command`` replaced: the controller here has no systemd as its init. Against real systemd
the module runs in every molecule scenario, in the roles that read their units with it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.stanford.trusted_mail.plugins.modules import systemd_units_info as sui

from module_results import ExitJson, FailJson, outcome, patch_module_args  # noqa: E402 (next to this file)

def run_module(args, check_mode=False, expect_fail=False):
    args = dict(args, _ansible_check_mode=check_mode)

    def exit_json(self, **kwargs):
        raise ExitJson(kwargs)

    def fail_json(self, msg, **kwargs):
        raise FailJson(dict(kwargs, msg=msg, failed=True))

    with patch_module_args(args), \
            mock.patch.object(AnsibleModule, 'exit_json', exit_json), \
            mock.patch.object(AnsibleModule, 'fail_json', fail_json):
        return outcome(sui.main, expect_fail)


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

    def test_missing_property_is_empty_and_others_ignored(self):
        states = sui.parse_show('ActiveState=active\nId=a.service\n', ['a.service'])
        assert states == {'a.service': {'load': '', 'enabled': '', 'active': 'active'}}

    @pytest.mark.parametrize('text', ['', 'ActiveState=active\n', 'ActiveState=active\n\nActiveState=active\n\nActiveState=x\n'])
    def test_block_count_must_match(self, text):
        with pytest.raises(ValueError, match='blocks for 2 units'):
            sui.parse_show(text, ['a.service', 'b.service'])


class TestModule:
    def test_no_units(self):
        assert run_module({'units': []}) == {'changed': False, 'units': {}, 'enabled_active': []}

    @pytest.mark.parametrize('unit', ['', '--all', 'a\nb.service'])
    def test_not_a_unit_name(self, unit):
        result = run_module({'units': ['ssh.service', unit]}, expect_fail=True)
        assert 'not unit names' in result['msg']

    def test_systemctl_fails(self):
        with mock.patch.object(AnsibleModule, 'get_bin_path', return_value='/bin/systemctl'), \
                mock.patch.object(AnsibleModule, 'run_command',
                                  return_value=(1, '', 'System has not been booted with systemd as init system\n')):
            result = run_module({'units': ['ssh.service']}, expect_fail=True)
        assert 'is systemd the init system' in result['msg'] and result['rc'] == 1

    def test_output_that_does_not_match_the_units(self):
        with mock.patch.object(AnsibleModule, 'get_bin_path', return_value='/bin/systemctl'), \
                mock.patch.object(AnsibleModule, 'run_command', return_value=(0, 'ActiveState=active\n', '')):
            result = run_module({'units': ['a.service', 'b.service']}, expect_fail=True)
        assert 'blocks for 2 units' in result['msg']

    def test_command_line(self):
        with mock.patch.object(AnsibleModule, 'get_bin_path', return_value='/bin/systemctl'), \
                mock.patch.object(AnsibleModule, 'run_command',
                                  return_value=(0, 'LoadState=loaded\nActiveState=active\nUnitFileState=enabled\n', '')) as run:
            result = run_module({'units': ['ssh.service']})
        argv = run.call_args[0][0]
        assert argv == ['/bin/systemctl', 'show', '--property=LoadState,UnitFileState,ActiveState', '--', 'ssh.service']
        assert result['enabled_active'] == ['ssh.service']
