# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for stanford.trusted_mail.postconf.

The first half tests the pure helpers. The second half runs the module's ``main()`` against the
real ``postconf`` binary with a temporary configuration directory (``postconf -c TMPDIR``); those
tests are skipped only when Postfix is not installed. /etc/postfix is never written.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import subprocess
import time
from unittest import mock

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.stanford.trusted_mail.plugins.modules import postconf as pc


# ---------------------------------------------------------------------------
# Helpers to run the module
# ---------------------------------------------------------------------------

from module_results import ExitJson, FailJson, outcome, patch_module_args  # noqa: E402 (next to this file)


def run_module(args, check_mode=False, diff=False, expect_fail=False):
    """Run pc.main() with ARGS; return the result dict (with ``warnings`` collected)."""
    args = dict(args)
    args['_ansible_check_mode'] = check_mode
    args['_ansible_diff'] = diff
    warnings = []

    def exit_json(self, **kwargs):
        kwargs['warnings'] = warnings
        raise ExitJson(kwargs)

    def fail_json(self, msg, **kwargs):
        kwargs['msg'] = msg
        kwargs['failed'] = True
        kwargs['warnings'] = warnings
        raise FailJson(kwargs)

    def warn(self, message):
        warnings.append(message)

    with patch_module_args(args), \
            mock.patch.object(AnsibleModule, 'exit_json', exit_json), \
            mock.patch.object(AnsibleModule, 'fail_json', fail_json), \
            mock.patch.object(AnsibleModule, 'warn', warn):
        return outcome(pc.main, expect_fail)


# ---------------------------------------------------------------------------
# Pure helpers
# ---------------------------------------------------------------------------

class TestRenderAndNormalize:
    @pytest.mark.parametrize('value, expected', [
        (True, 'yes'),
        (False, 'no'),
        (25, '25'),
        (0, '0'),
        (None, ''),
        ('  [smtp.stanford.edu]:587 \n', '[smtp.stanford.edu]:587'),
        (['127.0.0.0/8', '[::1]/128'], '127.0.0.0/8, [::1]/128'),
        ([True, 3, 'x'], 'yes, 3, x'),
        ([], ''),
    ])
    def test_render_value(self, value, expected):
        assert pc.render_value(value) == expected

    def test_render_list_separator(self):
        assert pc.render_value(['permit_sasl_authenticated', 'reject'], list_separator=',') == 'permit_sasl_authenticated,reject'

    @pytest.mark.parametrize('value', [{'a': 1}, [['nested']]])
    def test_render_rejects_unsupported(self, value):
        with pytest.raises(pc.PostconfError, match='unsupported value type'):
            pc.render_value(value, 'main: x')

    @pytest.mark.parametrize('value, expected', [
        ('a,\n    b,\n\tc', 'a, b, c'),
        ('  a   b  ', 'a b'),
        ('', ''),
        (None, None),
    ])
    def test_normalize(self, value, expected):
        assert pc.normalize(value) == expected


class TestParsing:
    def test_parse_postconf_n_joins_continuation_lines(self):
        text = ('compatibility_level = 3.6\n'
                'html_directory =\n'
                'smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination,\n'
                '    permit_sasl_authenticated\n'
                'relayhost = [smtp.stanford.edu]:587\n')
        assert pc.parse_postconf_n(text) == {
            'compatibility_level': '3.6',
            'html_directory': '',
            'smtpd_recipient_restrictions': 'permit_mynetworks, reject_unauth_destination, permit_sasl_authenticated',
            'relayhost': '[smtp.stanford.edu]:587',
        }

    def test_parse_postconf_n_keeps_equals_in_value(self):
        assert pc.parse_postconf_n('debugger_command = PATH=/bin ddd $x & sleep 5\n') == {'debugger_command': 'PATH=/bin ddd $x & sleep 5'}

    def test_parse_postconf_n_rejects_garbage(self):
        with pytest.raises(pc.PostconfError, match='cannot parse'):
            pc.parse_postconf_n('this is not postconf output\n')

    def test_parse_unused_warnings_only_main_cf(self):
        err = ('postconf: warning: /tmp/x/main.cf: unused parameter: foo_bar=a,    b,  c\n'
               'postconf: warning: /tmp/x/master.cf: unused parameter: y=z\n'
               'postconf: warning: nosuch: unknown parameter\n'
               '/usr/sbin/postconf: warning: /tmp/x/main.cf: unused parameter: empty=\n'
               'notpostconf: warning: /tmp/x/main.cf: unused parameter: other=1\n')
        assert pc.parse_unused_warnings(err) == {'foo_bar': 'a,    b,  c', 'empty': ''}

    def test_tokenize_master_braces(self):
        assert pc.tokenize_master('q unix - n n - - pipe -o {k = v v} argv=/bin/foo') == [
            'q', 'unix', '-', 'n', 'n', '-', '-', 'pipe', '-o', '{k = v v}', 'argv=/bin/foo']

    def test_split_command_getopt_semantics(self):
        # -o is only an option directly after the command name, before the first argument.
        rest, params = pc.split_command(['pipe', '-ox=y', '-v', '-o', 'z=w', 'argv=/bin/foo', '-o', 'bar'])
        assert rest == ['pipe', '-v', 'argv=/bin/foo', '-o', 'bar']
        assert params == ['x=y', 'z=w']
        rest, params = pc.split_command(['pipe', 'flags=R', '-o', 'x=y'])
        assert rest == ['pipe', 'flags=R', '-o', 'x=y']
        assert params == []

    def test_parse_postconf_M_single_line_and_folded(self):
        text = ('smtp       inet  n       -       y       -       -       smtpd\n'
                'submission inet  n       -       y       -       -       smtpd\n'
                '    -o syslog_name=postfix/submission\n'
                '    -o {smtpd_client_restrictions=permit_sasl_authenticated, reject}\n'
                '[127.0.0.1]:10025 inet n -       n       -       -       smtpd -o content_filter=\n'
                'maildrop   unix  -       n       n       -       -       pipe flags=DRXhu user=vmail argv=/usr/bin/maildrop -d ${recipient}\n')
        services = pc.parse_postconf_M(text)
        assert sorted(services) == ['[127.0.0.1]:10025/inet', 'maildrop/unix', 'smtp/inet', 'submission/inet']
        sub = services['submission/inet']
        assert (sub['private'], sub['unprivileged'], sub['chroot'], sub['wakeup'], sub['process_limit']) == ('n', '-', 'y', '-', '-')
        assert sub['command'] == 'smtpd'
        assert sub['parameters'] == {'syslog_name': 'postfix/submission',
                                     'smtpd_client_restrictions': 'permit_sasl_authenticated, reject'}
        assert services['[127.0.0.1]:10025/inet']['parameters'] == {'content_filter': ''}
        assert services['maildrop/unix']['command'] == 'pipe flags=DRXhu user=vmail argv=/usr/bin/maildrop -d ${recipient}'

    def test_parse_postconf_M_rejects_short_entry(self):
        with pytest.raises(pc.PostconfError, match='cannot parse master.cf entry'):
            pc.parse_postconf_M('smtp inet n - y\n')

    def test_parse_postconf_P(self):
        text = ('relay/unix/syslog_name = postfix/$service_name\n'
                'submission/inet/smtpd_client_restrictions = permit_sasl_authenticated,reject\n'
                'q/unix/k = v v\n'
                '[127.0.0.1]:10025/inet/content_filter =\n')
        assert pc.parse_postconf_P(text) == {
            'relay/unix': {'syslog_name': 'postfix/$service_name'},
            'submission/inet': {'smtpd_client_restrictions': 'permit_sasl_authenticated,reject'},
            'q/unix': {'k': 'v v'},
            '[127.0.0.1]:10025/inet': {'content_filter': ''},
        }


class TestValidation:
    @pytest.mark.parametrize('main, absent, message', [
        ({'bad name': 'x'}, [], 'invalid parameter name'),
        ({'relay-host': 'x'}, [], 'invalid parameter name'),
        ({'smtpd_banner': 'a\nb'}, [], 'must not contain line breaks'),
        ({'config_directory': '/etc/postfix'}, [], 'use the config_dir option'),
        ({}, ['bad/name'], 'invalid parameter name'),
        ({'relayhost': ''}, ['relayhost'], 'also listed in main'),
        ({'x': {'a': 1}}, [], 'unsupported value type'),
    ])
    def test_prepare_main_errors(self, main, absent, message):
        with pytest.raises(pc.PostconfError, match=message):
            pc.prepare_main(main, absent)

    def test_prepare_main_renders(self):
        desired, absent = pc.prepare_main({'a': True, 'b': ['x', 'y'], 'c': 10, 'd': 'folded text\n'}, ['e', 'e'])
        assert desired == {'a': 'yes', 'b': 'x, y', 'c': '10', 'd': 'folded text'}
        assert absent == ['e']

    @pytest.mark.parametrize('services, message', [
        ([{'name': 'bad/name', 'command': 'smtpd'}], 'invalid service name'),
        ([{'name': '-MX', 'command': 'smtpd'}], 'invalid service name'),
        ([{'name': 'smtp', 'type': 'tcp', 'command': 'smtpd'}], 'invalid type'),
        ([{'name': 'smtp'}], 'command is required'),
        ([{'name': 'smtp', 'command': '  '}], 'command is required'),
        ([{'name': 'smtp', 'command': 'smtpd -o syslog_name=x'}], 'put -o overrides in parameters'),
        ([{'name': 'smtp', 'command': '-o x=y'}], 'must start with the program name'),
        ([{'name': 'smtp', 'command': 'smtpd\n-v'}], 'line breaks'),
        ([{'name': 'smtp', 'command': 'smtpd'}, {'name': 'smtp', 'type': 'inet', 'state': 'absent'}], 'more than once'),
        ([{'name': 'smtp', 'command': 'smtpd', 'chroot': 'yes'}], 'invalid chroot'),
        ([{'name': 'smtp', 'command': 'smtpd', 'wakeup': 'soon'}], 'invalid wakeup'),
        ([{'name': 'smtp', 'command': 'smtpd', 'process_limit': '1?'}], 'invalid process_limit'),
        ([{'name': 'smtp', 'command': 'smtpd', 'parameters': {'bad-name': 'x'}}], 'invalid parameter name'),
        ([{'name': 'smtp', 'command': 'smtpd', 'parameters': {'x': 'a\nb'}}], 'line breaks'),
        ([{'name': 'smtp', 'command': 'smtpd', 'parameters': {'x': 'a {b} c'}}], 'must not contain'),
    ])
    def test_prepare_services_errors(self, services, message):
        with pytest.raises(pc.PostconfError, match=message):
            pc.prepare_services(services)

    def test_prepare_services_renders(self):
        (svc, gone) = pc.prepare_services([
            {'name': 'submission', 'private': False, 'chroot': True, 'wakeup': 60, 'process_limit': 100,
             'command': 'smtpd   -v', 'parameters': {'a': True, 'b': ['x', 'y'], 'c': 'v w'}},
            {'name': '[127.0.0.1]:10025', 'type': 'inet', 'state': 'absent'},
        ])
        assert svc['key'] == 'submission/inet'
        assert (svc['private'], svc['unprivileged'], svc['chroot'], svc['wakeup'], svc['process_limit']) == ('n', '-', 'y', '60', '100')
        assert svc['command'] == 'smtpd -v'
        assert svc['parameters'] == {'a': 'yes', 'b': 'x,y', 'c': 'v w'}
        assert gone == {'key': '[127.0.0.1]:10025/inet', 'name': '[127.0.0.1]:10025', 'type': 'inet', 'state': 'absent'}


def _svc(**kwargs):
    item = {'name': 'submission', 'command': 'smtpd'}
    item.update(kwargs)
    return pc.prepare_services([item])[0]


def _current(line):
    entry = pc.parse_master_entry(line)
    return {'%s/%s' % (entry['name'], entry['type']): entry}


class TestChanges:
    def test_main_whitespace_normalised_no_change(self):
        to_set, to_remove, changes = pc.compute_main_changes(
            {'mynetworks': '127.0.0.0/8,   [::1]/128'}, {'mynetworks': '127.0.0.0/8, [::1]/128'}, [])
        assert (to_set, to_remove, changes) == ({}, [], {})

    def test_main_unset_is_set_even_if_default(self):
        # biff defaults to yes, but compliance wants it explicit.
        to_set, dummy, changes = pc.compute_main_changes({}, {'biff': 'yes'}, [])
        assert to_set == {'biff': 'yes'}
        assert changes == {'biff': {'before': None, 'after': 'yes'}}

    def test_main_changed_and_absent(self):
        to_set, to_remove, changes = pc.compute_main_changes(
            {'relayhost': 'old', 'smtp_tls_note': 'x', 'keep': 'y'},
            {'relayhost': 'new'}, ['smtp_tls_note', 'not_set'])
        assert to_set == {'relayhost': 'new'}
        assert to_remove == ['smtp_tls_note']
        assert changes == {'relayhost': {'before': 'old', 'after': 'new'}, 'smtp_tls_note': {'before': 'x', 'after': None}}

    def test_main_empty_value_is_a_value(self):
        to_set, dummy, dummy2 = pc.compute_main_changes({'relayhost': ''}, {'relayhost': ''}, [])
        assert to_set == {}
        to_set, dummy, dummy2 = pc.compute_main_changes({}, {'relayhost': ''}, [])
        assert to_set == {'relayhost': ''}

    def test_build_service_entry_places_o_after_command_name(self):
        svc = _svc(type='unix', command='pipe flags=R argv=/bin/x ${sender}', parameters={'a': 'b', 'c': 'd e'})
        assert pc.build_service_entry(svc) == 'submission unix - - - - - pipe -o a=b -o {c=d e} flags=R argv=/bin/x ${sender}'

    def test_service_add(self):
        plan, changes = pc.compute_service_changes({}, {}, [_svc(chroot='y', parameters={'syslog_name': 'postfix/submission'})])
        assert plan == {'remove': [], 'entries': {'submission/inet': 'submission inet - - y - - smtpd -o syslog_name=postfix/submission'},
                        'set_params': [], 'remove_params': []}
        assert changes == [{'service': 'submission/inet', 'action': 'added', 'before': None,
                            'after': 'submission inet - - y - - smtpd',
                            'parameters': {'syslog_name': {'before': None, 'after': 'postfix/submission'}}}]

    def test_service_unchanged(self):
        current = _current('submission inet  n  -  y  -  -  smtpd -o syslog_name=postfix/submission')
        params = {'submission/inet': {'syslog_name': 'postfix/submission'}}
        plan, changes = pc.compute_service_changes(current, params, [_svc(private='n', chroot='y', parameters={'syslog_name': 'postfix/submission'})])
        assert changes == []
        assert plan == {'remove': [], 'entries': {}, 'set_params': [], 'remove_params': []}

    def test_service_params_only_uses_P_and_PX(self):
        current = _current('submission inet n - y - - smtpd -o syslog_name=postfix/submission -o smtpd_sasl_auth_enable=yes')
        params = {'submission/inet': {'syslog_name': 'postfix/submission', 'smtpd_sasl_auth_enable': 'yes'}}
        desired = [_svc(private='n', chroot='y', parameters={'syslog_name': 'postfix/sub', 'smtpd_tls_security_level': 'encrypt'})]
        plan, changes = pc.compute_service_changes(current, params, desired)
        assert plan['entries'] == {}
        assert plan['set_params'] == ['submission/inet/syslog_name=postfix/sub', 'submission/inet/smtpd_tls_security_level=encrypt']
        assert plan['remove_params'] == ['submission/inet/smtpd_sasl_auth_enable']
        assert changes[0]['action'] == 'modified'
        assert changes[0]['before'] == changes[0]['after'] == 'submission inet n - y - - smtpd'
        assert changes[0]['parameters'] == {
            'syslog_name': {'before': 'postfix/submission', 'after': 'postfix/sub'},
            'smtpd_tls_security_level': {'before': None, 'after': 'encrypt'},
            'smtpd_sasl_auth_enable': {'before': 'yes', 'after': None},
        }

    def test_service_param_with_whitespace_rewrites_entry(self):
        current = _current('submission inet n - y - - smtpd')
        plan, dummy = pc.compute_service_changes(current, {}, [_svc(private='n', chroot='y', parameters={'x': 'a b'})])
        assert plan['entries'] == {'submission/inet': 'submission inet n - y - - smtpd -o {x=a b}'}
        assert plan['set_params'] == []

    def test_service_field_change_rewrites_entry(self):
        current = _current('submission inet n - y - - smtpd -o syslog_name=postfix/submission')
        params = {'submission/inet': {'syslog_name': 'postfix/submission'}}
        plan, changes = pc.compute_service_changes(current, params, [_svc(private='n', chroot='n', parameters={'syslog_name': 'postfix/submission'})])
        assert plan['entries'] == {'submission/inet': 'submission inet n - n - - smtpd -o syslog_name=postfix/submission'}
        assert changes[0]['before'] == 'submission inet n - y - - smtpd'
        assert changes[0]['after'] == 'submission inet n - n - - smtpd'
        assert changes[0]['parameters'] == {}

    def test_service_remove(self):
        current = _current('submission inet n - y - - smtpd -o syslog_name=postfix/submission')
        params = {'submission/inet': {'syslog_name': 'postfix/submission'}}
        plan, changes = pc.compute_service_changes(current, params, pc.prepare_services([{'name': 'submission', 'state': 'absent'}]))
        assert plan['remove'] == ['submission/inet']
        assert changes == [{'service': 'submission/inet', 'action': 'removed', 'before': 'submission inet n - y - - smtpd', 'after': None,
                            'parameters': {'syslog_name': {'before': 'postfix/submission', 'after': None}}}]
        plan, changes = pc.compute_service_changes({}, {}, pc.prepare_services([{'name': 'submission', 'state': 'absent'}]))
        assert changes == [] and plan['remove'] == []

    def test_build_diff(self):
        main_changes = {'relayhost': {'before': None, 'after': '[smtp]:587'}, 'old': {'before': 'x', 'after': None},
                        'mynetworks': {'before': '127.0.0.0/8', 'after': '127.0.0.0/8, 10.0.0.0/8'}}
        service_changes = [
            {'service': 'submission/inet', 'action': 'modified', 'before': 'submission inet n - y - - smtpd',
             'after': 'submission inet n - y - - smtpd', 'parameters': {'a': {'before': '1', 'after': '2'}}},
            {'service': 'smtps/inet', 'action': 'removed', 'before': 'smtps inet n - y - - smtpd', 'after': None, 'parameters': {}},
        ]
        diff = pc.build_diff(main_changes, service_changes, '/etc/postfix')
        assert diff['before'] == ('old = x\nmynetworks = 127.0.0.0/8\nsubmission/inet/a = 1\n'
                                  'smtps/inet = smtps inet n - y - - smtpd\n')
        assert diff['after'] == 'relayhost = [smtp]:587\nmynetworks = 127.0.0.0/8, 10.0.0.0/8\nsubmission/inet/a = 2\n'
        assert diff['before_header'] == '/etc/postfix (before)'


# ---------------------------------------------------------------------------
# Module runs that need no Postfix
# ---------------------------------------------------------------------------

class TestOverridesAbsent:
    SERVICES = {
        'smtp/inet': pc.parse_master_entry('smtp inet n - y - - smtpd'),
        'reinject/inet': pc.parse_master_entry('reinject inet n - n - - smtpd'),
        'pickup/unix': pc.parse_master_entry('pickup unix n - y 60 1 pickup'),
    }

    def test_prepare(self):
        assert pc.prepare_overrides_absent(['smtpd_milters', 'receive_override_options=no_milters',
                                            'receive_override_options=no_milters', ' x = y ']) == {
            'smtpd_milters': None, 'receive_override_options': ['no_milters'], 'x': ['y']}
        # Removing the whole override wins over removing one of its words.
        assert pc.prepare_overrides_absent(['a=b', 'a']) == {'a': None}
        assert pc.prepare_overrides_absent(['a', 'a=b']) == {'a': None}

    @pytest.mark.parametrize('item', ['bad-name', 'x=', 'x=a,b', 'x=a b', '=y', 7])
    def test_prepare_refuses(self, item):
        with pytest.raises(pc.PostconfError, match='overrides_absent'):
            pc.prepare_overrides_absent([item])

    def test_words_and_whole_overrides_removed_from_unlisted_services_only(self):
        params = {
            'smtp/inet': {'smtpd_milters': ''},
            'reinject/inet': {'receive_override_options': 'no_unknown_recipient_checks, no_milters',
                              'syslog_name': 'postfix/reinject'},
            'pickup/unix': {'receive_override_options': 'no_header_body_checks', 'non_smtpd_milters': ''},
        }
        absent = pc.prepare_overrides_absent(['smtpd_milters', 'non_smtpd_milters', 'receive_override_options=no_milters'])
        plan, changes = pc.compute_override_removals(self.SERVICES, params, {'smtp/inet'}, absent)
        assert plan == {'entries': {}, 'set_params': ['reinject/inet/receive_override_options=no_unknown_recipient_checks'],
                        'remove_params': ['pickup/unix/non_smtpd_milters']}
        assert changes == [
            {'service': 'reinject/inet', 'action': 'modified', 'before': 'reinject inet n - n - - smtpd',
             'after': 'reinject inet n - n - - smtpd',
             'parameters': {'receive_override_options': {'before': 'no_unknown_recipient_checks, no_milters',
                                                         'after': 'no_unknown_recipient_checks'}}},
            {'service': 'pickup/unix', 'action': 'modified', 'before': 'pickup unix n - y 60 1 pickup',
             'after': 'pickup unix n - y 60 1 pickup', 'parameters': {'non_smtpd_milters': {'before': '', 'after': None}}},
        ]

    def test_last_word_removes_the_override(self):
        absent = pc.prepare_overrides_absent(['receive_override_options=no_milters'])
        plan, changes = pc.compute_override_removals(
            self.SERVICES, {'reinject/inet': {'receive_override_options': 'no_milters'}}, set(), absent)
        assert plan['remove_params'] == ['reinject/inet/receive_override_options'] and not plan['set_params']
        assert changes[0]['parameters'] == {'receive_override_options': {'before': 'no_milters', 'after': None}}

    def test_nothing_to_remove(self):
        absent = pc.prepare_overrides_absent(['smtpd_milters', 'receive_override_options=no_milters'])
        params = {'reinject/inet': {'receive_override_options': 'no_header_body_checks'}}
        assert pc.compute_override_removals(self.SERVICES, params, set(), absent) == (
            {'entries': {}, 'set_params': [], 'remove_params': []}, [])
        assert pc.compute_override_removals(self.SERVICES, {'smtp/inet': {'smtpd_milters': ''}}, set(), {}) == (
            {'entries': {}, 'set_params': [], 'remove_params': []}, [])

    def test_other_override_with_whitespace_rewrites_the_entry(self):
        params = {'reinject/inet': {'smtpd_milters': '', 'smtpd_client_restrictions': 'permit_mynetworks, reject'}}
        plan, dummy = pc.compute_override_removals(self.SERVICES, params, set(), pc.prepare_overrides_absent(['smtpd_milters']))
        assert plan == {'entries': {'reinject/inet': 'reinject inet n - n - - smtpd -o {smtpd_client_restrictions=permit_mynetworks, reject}'},
                        'set_params': [], 'remove_params': []}


class TestWithoutPostfix:
    ARGS = {
        'config_dir': '/nonexistent/postfix',
        'main': {'relayhost': '[smtp.stanford.edu]:587', 'smtpd_tls_auth_only': True},
        'main_absent': ['old_param'],
        'services': [{'name': 'submission', 'command': 'smtpd', 'parameters': {'syslog_name': 'postfix/submission'}},
                     {'name': 'smtps', 'state': 'absent'}],
    }

    def test_check_mode_without_postconf_reports_changes(self):
        with mock.patch.object(AnsibleModule, 'get_bin_path', return_value=None):
            result = run_module(self.ARGS, check_mode=True, diff=True)
        assert result['changed'] is True
        assert result['main_changes'] == {'relayhost': {'before': None, 'after': '[smtp.stanford.edu]:587'},
                                          'smtpd_tls_auth_only': {'before': None, 'after': 'yes'}}
        assert [c['action'] for c in result['service_changes']] == ['added']
        assert any('postconf not found' in w for w in result['warnings'])
        assert result['diff']['before'] == ''
        assert 'submission/inet/syslog_name = postfix/submission' in result['diff']['after']

    def test_without_postconf_fails_outside_check_mode(self):
        with mock.patch.object(AnsibleModule, 'get_bin_path', return_value=None):
            result = run_module(self.ARGS, expect_fail=True)
        assert result['msg'] == 'postconf not found: install Postfix first'

    def test_validation_runs_before_anything(self):
        with mock.patch.object(AnsibleModule, 'get_bin_path') as get_bin_path:
            result = run_module({'main': {'smtpd_banner': 'two\nlines'}}, expect_fail=True)
        assert 'must not contain line breaks' in result['msg']
        get_bin_path.assert_not_called()

    def test_missing_command_for_present_service(self):
        result = run_module({'services': [{'name': 'submission'}]}, expect_fail=True)
        assert 'command' in result['msg']

    def test_postconf_error_is_reported_with_stderr(self, tmp_path):
        fake = tmp_path / 'postconf'
        fake.write_text('#!/bin/sh\necho "postconf: fatal: something broke" >&2\nexit 1\n')
        fake.chmod(0o755)
        (tmp_path / 'main.cf').write_text('')
        (tmp_path / 'master.cf').write_text('')
        with mock.patch.object(AnsibleModule, 'get_bin_path', return_value=str(fake)):
            result = run_module({'config_dir': str(tmp_path), 'main': {'relayhost': 'x'}}, expect_fail=True)
        assert result['msg'] == 'postconf failed: postconf: fatal: something broke'
        assert result['rc'] == 1


# ---------------------------------------------------------------------------
# Against the real postconf
# ---------------------------------------------------------------------------

def _find_postconf():
    found = shutil.which('postconf')
    if found:
        return found
    for path in ('/usr/sbin/postconf', '/sbin/postconf', '/usr/local/sbin/postconf'):
        if os.access(path, os.X_OK):
            return path
    return None


POSTCONF = _find_postconf()

MINIMAL_MASTER_CF = """\
smtp      inet  n       -       y       -       -       smtpd
pickup    unix  n       -       y       60      1       pickup
cleanup   unix  n       -       y       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
relay     unix  -       -       y       -       -       smtp
  -o syslog_name=postfix/$service_name
"""


@pytest.fixture
def postfix_dir(tmp_path):
    """A private Postfix configuration directory for ``postconf -c``."""
    if POSTCONF is None:
        pytest.skip('postconf not found: install Postfix (apt-get install postfix) to run the tests against the real postconf')
    conf = tmp_path / 'postfix'
    conf.mkdir()
    (conf / 'main.cf').write_text(
        '# test main.cf\n'
        'compatibility_level = 3.6\n'
        'myhostname = mx.example.org\n'
        'smtpd_recipient_restrictions = permit_mynetworks,\n'
        '    reject_unauth_destination\n'
        'obsolete_setting = to be removed\n')
    for source in ('/usr/share/postfix/master.cf.dist', '/etc/postfix/master.cf'):
        if os.path.isfile(source):
            shutil.copyfile(source, str(conf / 'master.cf'))
            break
    else:
        (conf / 'master.cf').write_text(MINIMAL_MASTER_CF)
    # Postfix re-reads a main.cf modified within the last second or two until it is "stable"
    # (in 0.3 s steps); back-date the fresh files so the first read is not slowed down.
    for name in ('main.cf', 'master.cf'):
        os.utime(str(conf / name), (1000000000, 1000000000))
    return str(conf)


def postconf(conf, *args):
    proc = subprocess.run([POSTCONF, '-c', conf] + list(args), check=True, capture_output=True, text=True)
    return proc.stdout


def explicit(conf):
    return pc.parse_postconf_n(postconf(conf, '-n'))


def service(conf, key):
    out = postconf(conf, '-M', key).strip()
    return ' '.join(out.split()) if out else None


def service_params(conf, key):
    return pc.parse_postconf_P(postconf(conf, '-P', key)).get(key, {})


def snapshot(conf):
    return dict((name, open(os.path.join(conf, name), 'rb').read()) for name in ('main.cf', 'master.cf'))


MAIN = {
    'relayhost': '[smtp.stanford.edu]:587',
    'smtpd_tls_auth_only': True,
    'message_size_limit': 52428800,
    'mynetworks': ['127.0.0.0/8', '[::1]/128'],
    'smtpd_recipient_restrictions': 'permit_mynetworks, reject_unauth_destination',
    'compatibility_level': '3.6',
    'biff': 'yes',  # equals the built-in default, still written explicitly
}

SUBMISSION = {
    'name': 'submission',
    'type': 'inet',
    'private': 'n',
    'chroot': 'y',
    'command': 'smtpd',
    'parameters': {
        'syslog_name': 'postfix/submission',
        'smtpd_tls_security_level': 'encrypt',
        'smtpd_sasl_auth_enable': True,
        'smtpd_client_restrictions': ['permit_sasl_authenticated', 'reject'],
    },
}


class TestRealPostconfMain:
    def test_set_then_idempotent(self, postfix_dir):
        args = {'config_dir': postfix_dir, 'main': MAIN}
        result = run_module(args, diff=True)
        assert result['changed'] is True
        assert result['config_dir'] == postfix_dir
        # Multi-line value that is equal after normalisation and compatibility_level are untouched.
        assert sorted(result['main_changes']) == ['biff', 'message_size_limit', 'mynetworks', 'relayhost', 'smtpd_tls_auth_only']
        assert result['main_changes']['relayhost'] == {'before': None, 'after': '[smtp.stanford.edu]:587'}
        assert result['diff']['before'] == ''
        assert 'smtpd_tls_auth_only = yes\n' in result['diff']['after']
        assert 'mynetworks = 127.0.0.0/8, [::1]/128\n' in result['diff']['after']
        now = explicit(postfix_dir)
        assert now['relayhost'] == '[smtp.stanford.edu]:587'
        assert now['smtpd_tls_auth_only'] == 'yes'
        assert now['message_size_limit'] == '52428800'
        assert now['biff'] == 'yes'
        assert now['myhostname'] == 'mx.example.org'  # unmanaged parameters are left alone

        before = snapshot(postfix_dir)
        again = run_module(args, diff=True)
        assert again['changed'] is False
        assert again['main_changes'] == {}
        assert again['diff']['before'] == again['diff']['after'] == ''
        assert snapshot(postfix_dir) == before

    def test_change_existing_value(self, postfix_dir):
        result = run_module({'config_dir': postfix_dir, 'main': {'myhostname': 'relay.stanford.edu'}}, diff=True)
        assert result['main_changes'] == {'myhostname': {'before': 'mx.example.org', 'after': 'relay.stanford.edu'}}
        assert result['diff']['before'] == 'myhostname = mx.example.org\n'
        assert result['diff']['after'] == 'myhostname = relay.stanford.edu\n'
        assert explicit(postfix_dir)['myhostname'] == 'relay.stanford.edu'

    def test_check_mode_writes_nothing(self, postfix_dir):
        before = snapshot(postfix_dir)
        args = {'config_dir': postfix_dir, 'main': MAIN, 'main_absent': ['obsolete_setting'], 'services': [SUBMISSION]}
        result = run_module(args, check_mode=True, diff=True)
        assert result['changed'] is True
        assert 'relayhost' in result['main_changes']
        assert result['main_changes']['obsolete_setting'] == {'before': 'to be removed', 'after': None}
        assert result['service_changes'][0]['action'] == 'added'
        assert snapshot(postfix_dir) == before
        # The real run makes exactly the changes check mode predicted.
        real = run_module(args, diff=True)
        assert real['main_changes'] == result['main_changes']
        assert real['service_changes'] == result['service_changes']
        assert real['diff'] == result['diff']
        assert run_module(args, check_mode=True)['changed'] is False

    def test_main_absent(self, postfix_dir):
        # obsolete_setting is unknown to Postfix: postconf -n hides it, the module still sees it.
        result = run_module({'config_dir': postfix_dir, 'main_absent': ['obsolete_setting', 'myhostname', 'relayhost']}, diff=True)
        assert result['changed'] is True
        assert result['main_changes'] == {'obsolete_setting': {'before': 'to be removed', 'after': None},
                                          'myhostname': {'before': 'mx.example.org', 'after': None}}
        assert result['diff']['after'] == ''
        content = open(os.path.join(postfix_dir, 'main.cf')).read()
        assert 'obsolete_setting' not in content and 'myhostname' not in content
        assert run_module({'config_dir': postfix_dir, 'main_absent': ['obsolete_setting', 'myhostname']})['changed'] is False

    def test_unused_parameter_is_idempotent(self, postfix_dir):
        args = {'config_dir': postfix_dir, 'main': {'mua_client_restrictions': ['permit_sasl_authenticated', 'reject']}}
        assert run_module(args)['changed'] is True
        assert 'mua_client_restrictions = permit_sasl_authenticated, reject' in open(os.path.join(postfix_dir, 'main.cf')).read()
        assert run_module(args)['changed'] is False

    def test_multiline_value_written_elsewhere_is_normalised(self, postfix_dir):
        args = {'config_dir': postfix_dir, 'main': {'smtpd_recipient_restrictions': ['permit_mynetworks', 'reject_unauth_destination']}}
        assert run_module(args)['changed'] is False

    def test_missing_main_cf(self, postfix_dir):
        os.unlink(os.path.join(postfix_dir, 'main.cf'))
        result = run_module({'config_dir': postfix_dir, 'main': {'relayhost': 'x'}}, expect_fail=True)
        assert 'main.cf not found' in result['msg']
        result = run_module({'config_dir': postfix_dir, 'main': {'relayhost': 'x'}}, check_mode=True)
        assert result['changed'] is True
        assert any('main.cf not found' in w for w in result['warnings'])


class TestRealPostconfServices:
    def test_add_idempotent_modify_remove(self, postfix_dir):
        key = 'submission/inet'
        args = {'config_dir': postfix_dir, 'services': [SUBMISSION]}
        result = run_module(args, diff=True)
        assert result['changed'] is True
        assert result['service_changes'][0]['action'] == 'added'
        assert result['service_changes'][0]['after'] == 'submission inet n - y - - smtpd'
        assert service(postfix_dir, key).startswith('submission inet n - y - - smtpd -o ')
        assert service_params(postfix_dir, key) == {
            'syslog_name': 'postfix/submission',
            'smtpd_tls_security_level': 'encrypt',
            'smtpd_sasl_auth_enable': 'yes',
            'smtpd_client_restrictions': 'permit_sasl_authenticated,reject',
        }
        assert 'submission/inet = submission inet n - y - - smtpd\n' in result['diff']['after']
        assert 'submission/inet/smtpd_sasl_auth_enable = yes\n' in result['diff']['after']

        before = snapshot(postfix_dir)
        again = run_module(args)
        assert again['changed'] is False and again['service_changes'] == []
        assert snapshot(postfix_dir) == before

        # Parameters only: changed, added and dropped -o overrides (postconf -P / -PX).
        params = {'syslog_name': 'postfix/submission', 'smtpd_tls_security_level': 'may', 'smtpd_tls_auth_only': 'yes'}
        modified = dict(SUBMISSION, parameters=params)
        result = run_module({'config_dir': postfix_dir, 'services': [modified]}, diff=True)
        assert result['changed'] is True
        change = result['service_changes'][0]
        assert change['action'] == 'modified'
        assert change['parameters'] == {
            'smtpd_tls_security_level': {'before': 'encrypt', 'after': 'may'},
            'smtpd_tls_auth_only': {'before': None, 'after': 'yes'},
            'smtpd_sasl_auth_enable': {'before': 'yes', 'after': None},
            'smtpd_client_restrictions': {'before': 'permit_sasl_authenticated,reject', 'after': None},
        }
        assert service_params(postfix_dir, key) == params
        assert 'submission/inet = ' not in result['diff']['after']  # the columns did not change
        assert run_module({'config_dir': postfix_dir, 'services': [modified]})['changed'] is False

        # Columns change: the entry is rewritten with -M, parameters kept.
        moved = dict(modified, chroot='n', process_limit=20)
        result = run_module({'config_dir': postfix_dir, 'services': [moved]}, diff=True)
        assert result['changed'] is True
        assert result['diff']['before'] == 'submission/inet = submission inet n - y - - smtpd\n'
        assert result['diff']['after'] == 'submission/inet = submission inet n - n - 20 smtpd\n'
        assert service(postfix_dir, key).startswith('submission inet n - n - 20 smtpd')
        assert service_params(postfix_dir, key) == params
        assert run_module({'config_dir': postfix_dir, 'services': [moved]})['changed'] is False

        # Removal, in check mode first.
        gone = {'config_dir': postfix_dir, 'services': [{'name': 'submission', 'state': 'absent'}]}
        before = snapshot(postfix_dir)
        result = run_module(gone, check_mode=True, diff=True)
        assert result['changed'] is True
        assert snapshot(postfix_dir) == before
        assert 'submission/inet = submission inet n - n - 20 smtpd\n' in result['diff']['before']
        result = run_module(gone)
        assert result['service_changes'][0]['action'] == 'removed'
        assert service(postfix_dir, key) is None
        assert run_module(gone)['changed'] is False

    def test_value_with_whitespace_uses_braces(self, postfix_dir):
        svc = {'name': '127.0.0.1:10025', 'type': 'inet', 'private': 'n', 'chroot': 'n', 'command': 'smtpd',
               'parameters': {'content_filter': '', 'smtpd_client_restrictions': 'permit_mynetworks, reject'}}
        args = {'config_dir': postfix_dir, 'services': [svc]}
        assert run_module(args)['changed'] is True
        assert service_params(postfix_dir, '127.0.0.1:10025/inet') == {
            'content_filter': '', 'smtpd_client_restrictions': 'permit_mynetworks, reject'}
        assert '{smtpd_client_restrictions=permit_mynetworks, reject}' in service(postfix_dir, '127.0.0.1:10025/inet')
        assert run_module(args)['changed'] is False
        # A parameter-only change to a value with whitespace rewrites the entry (postconf -P refuses whitespace).
        svc2 = dict(svc, parameters={'content_filter': '', 'smtpd_client_restrictions': 'permit_mynetworks, permit_sasl_authenticated, reject'})
        assert run_module({'config_dir': postfix_dir, 'services': [svc2]})['changed'] is True
        assert service_params(postfix_dir, '127.0.0.1:10025/inet')['smtpd_client_restrictions'] == 'permit_mynetworks, permit_sasl_authenticated, reject'
        assert run_module({'config_dir': postfix_dir, 'services': [svc2]})['changed'] is False

    def test_existing_service_with_parameters_is_adopted(self, postfix_dir):
        # Put a known entry with an -o override in place, the way the packaged master.cf has it.
        postconf(postfix_dir, '-M', 'relay/unix=relay unix - - y - - smtp -o syslog_name=postfix/$service_name')
        svc = {'name': 'relay', 'type': 'unix', 'chroot': 'y', 'command': 'smtp', 'parameters': {'syslog_name': 'postfix/$service_name'}}
        assert run_module({'config_dir': postfix_dir, 'services': [svc]})['changed'] is False
        # Not listing the parameter removes it.
        result = run_module({'config_dir': postfix_dir, 'services': [dict(svc, parameters={})]})
        assert result['changed'] is True
        assert service_params(postfix_dir, 'relay/unix') == {}
        assert service(postfix_dir, 'relay/unix') == 'relay unix - - y - - smtp'

    def test_pipe_command_arguments_survive(self, postfix_dir):
        svc = {'name': 'filter', 'type': 'unix', 'unprivileged': 'n', 'chroot': 'n', 'command': 'pipe flags=Rq user=nobody argv=/bin/cat -o ${sender}',
               'parameters': {'syslog_name': 'postfix/filter'}}
        args = {'config_dir': postfix_dir, 'services': [svc]}
        assert run_module(args)['changed'] is True
        assert service(postfix_dir, 'filter/unix') == 'filter unix - n n - - pipe -o syslog_name=postfix/filter flags=Rq user=nobody argv=/bin/cat -o ${sender}'
        assert service_params(postfix_dir, 'filter/unix') == {'syslog_name': 'postfix/filter'}
        assert run_module(args)['changed'] is False

    def test_overrides_absent_on_unlisted_services(self, postfix_dir):
        postconf(postfix_dir, '-M',
                 'reinject/inet=reinject inet n - n - - smtpd -o smtpd_milters= '
                 '-o receive_override_options=no_unknown_recipient_checks,no_milters -o syslog_name=postfix/reinject',
                 'relay/unix=relay unix - - y - - smtp -o {smtpd_client_restrictions=permit_mynetworks, reject} '
                 '-o receive_override_options=no_milters')
        args = {'config_dir': postfix_dir, 'overrides_absent': ['smtpd_milters', 'receive_override_options=no_milters']}
        before = snapshot(postfix_dir)
        result = run_module(args, check_mode=True, diff=True)
        assert result['changed'] is True and snapshot(postfix_dir) == before
        assert 'reinject/inet/smtpd_milters = \n' in result['diff']['before']
        assert 'reinject/inet/receive_override_options = no_unknown_recipient_checks\n' in result['diff']['after']
        assert 'relay/unix/receive_override_options = no_milters\n' in result['diff']['before']

        result = run_module(args)
        assert sorted(change['service'] for change in result['service_changes']) == ['reinject/inet', 'relay/unix']
        assert service_params(postfix_dir, 'reinject/inet') == {
            'receive_override_options': 'no_unknown_recipient_checks', 'syslog_name': 'postfix/reinject'}
        assert service_params(postfix_dir, 'relay/unix') == {'smtpd_client_restrictions': 'permit_mynetworks, reject'}
        assert run_module(args)['changed'] is False

        # A listed service ends as described instead, whatever overrides_absent says.
        listed = {'name': 'reinject', 'chroot': 'n', 'private': 'n', 'command': 'smtpd',
                  'parameters': {'receive_override_options': 'no_milters'}}
        assert run_module(dict(args, services=[listed]))['changed'] is True
        assert service_params(postfix_dir, 'reinject/inet') == {'receive_override_options': 'no_milters'}
        assert run_module(dict(args, services=[listed]))['changed'] is False

    def test_everything_together(self, postfix_dir):
        args = {'config_dir': postfix_dir, 'main': MAIN, 'main_absent': ['obsolete_setting'],
                'services': [SUBMISSION, {'name': 'smtp', 'state': 'absent'}]}
        result = run_module(args, diff=True)
        assert result['changed'] is True
        assert [c['service'] for c in result['service_changes']] == ['submission/inet', 'smtp/inet']
        assert service(postfix_dir, 'smtp/inet') is None
        assert 'obsolete_setting' not in open(os.path.join(postfix_dir, 'main.cf')).read()
        # Postfix itself accepts the result.
        proc = subprocess.run([POSTCONF, '-c', postfix_dir, '-n'], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        assert run_module(args)['changed'] is False


class TestCoolDown:
    def test_a_changed_main_cf_is_dated_back_so_postfix_reads_it_at_once(self, postfix_dir):
        main_cf = os.path.join(postfix_dir, 'main.cf')
        started = time.time()
        os.utime(main_cf, (started - 10, started - 10))
        run_module({'config_dir': postfix_dir, 'main': {'relayhost': '[relay.example.org]:25'}})
        assert explicit(postfix_dir)['relayhost'] == '[relay.example.org]:25'
        assert started - 10 < os.stat(main_cf).st_mtime <= time.time() - pc.COOL_DOWN_SECONDS

    def test_an_unchanged_main_cf_keeps_its_time(self, postfix_dir):
        main_cf = os.path.join(postfix_dir, 'main.cf')
        run_module({'config_dir': postfix_dir, 'main': {'myhostname': 'mx.example.org'}})
        assert os.stat(main_cf).st_mtime == 1000000000

    def test_always_later_than_the_time_it_had(self, tmp_path):
        path = tmp_path / 'main.cf'
        path.write_text('x = 1\n')
        now = time.time()
        os.utime(str(path), (now, now))
        pc.cool_down(str(path), previous_mtime=now - 0.5, now=now)
        assert os.stat(str(path)).st_mtime == pytest.approx(now - 0.499, abs=0.0005)
        pc.cool_down(str(path), previous_mtime=0, now=now)
        assert os.stat(str(path)).st_mtime == pytest.approx(now - pc.COOL_DOWN_SECONDS, abs=0.0005)
