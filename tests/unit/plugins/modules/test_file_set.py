# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the stanford.trusted_mail.file_set module.

The module's ``main()`` runs against files and directories under pytest's tmp_path, owned by the
user running the tests (root or not). Tests that need a second user run only as root.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import json
import os
import pwd
import stat
from unittest import mock

import pytest

from ansible.module_utils import basic
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.stanford.trusted_mail.plugins.module_utils import file_set as core
from ansible_collections.stanford.trusted_mail.plugins.modules import file_set as fs

USER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name
IS_ROOT = os.geteuid() == 0


from module_results import ExitJson, FailJson, outcome, patch_module_args  # noqa: E402 (next to this file)


def run_module(args, check_mode=False, diff=False, expect_fail=False, logged=None):
    """Run fs.main() with ARGS; return the result dict after AnsibleModule's no_log masking.

    LOGGED, when a list, receives (msg, log_args) of every AnsibleModule.log call (the journal or
    syslog entry the module writes on the managed host).
    """
    args = dict(args)
    args['_ansible_check_mode'] = check_mode
    args['_ansible_diff'] = diff
    warnings = []

    def finish(self, kwargs, exc_class):
        # The same masking AnsibleModule._return_formatted applies before the result is printed.
        kwargs = basic.remove_values(kwargs, self.no_log_values)
        kwargs['warnings'] = warnings
        raise exc_class(kwargs)

    def exit_json(self, **kwargs):
        finish(self, kwargs, ExitJson)

    def fail_json(self, msg, **kwargs):
        kwargs['msg'] = msg
        kwargs['failed'] = True
        finish(self, kwargs, FailJson)

    def warn(self, message):
        warnings.append(message)

    def log(self, msg, log_args=None):
        if logged is not None:
            logged.append((msg, log_args))

    with patch_module_args(args), \
            mock.patch.object(AnsibleModule, 'exit_json', exit_json), \
            mock.patch.object(AnsibleModule, 'fail_json', fail_json), \
            mock.patch.object(AnsibleModule, 'warn', warn), \
            mock.patch.object(AnsibleModule, 'log', log):
        return outcome(fs.main, expect_fail)


def f(dest, content, mode='0644', **kwargs):
    entry = {'dest': str(dest), 'content': content, 'mode': mode, 'owner': USER, 'group': GROUP}
    entry.update(kwargs)
    return entry


def d(path, mode='0755', **kwargs):
    entry = {'path': str(path), 'mode': mode, 'owner': USER, 'group': GROUP}
    entry.update(kwargs)
    return entry


def mode_of(path):
    return stat.S_IMODE(os.lstat(str(path)).st_mode)


def states(result, key='files'):
    return [item['state'] for item in result[key]]


def leftovers(directory):
    return sorted(name for name in os.listdir(str(directory)) if name.endswith('.file_set'))


# ---------------------------------------------------------------------------
# Pure helpers
# ---------------------------------------------------------------------------

class TestHelpers:
    @pytest.mark.parametrize('value, expected', [('0644', 0o644), ('644', 0o644), ('1777', 0o1777), ('0400', 0o400)])
    def test_parse_mode(self, value, expected):
        assert fs.parse_mode(value, 'x') == expected

    @pytest.mark.parametrize('value', ['420', '0o644', 'rw-r--r--', '08', '', '06444', 420, None])
    def test_parse_mode_rejects(self, value):
        if value == '420':
            # Decimal 420 is what an unquoted YAML 0644 becomes; as a string it is valid octal 0420,
            # which is why the action plugin refuses integers before they become strings.
            assert fs.parse_mode(value, 'x') == 0o420
            return
        with pytest.raises(fs.FileSetError, match='octal string'):
            fs.parse_mode(value, 'x')

    def test_split_validate_replaces_every_placeholder(self):
        assert fs.split_validate('/usr/sbin/visudo -c -f %s', '/a b/c') == ['/usr/sbin/visudo', '-c', '-f', '/a b/c']
        assert fs.split_validate("sh -c 'test -s %s'", '/x') == ['sh', '-c', 'test -s /x']
        with pytest.raises(fs.FileSetError, match='must contain %s'):
            fs.split_validate('/usr/sbin/visudo -c', '/x')

    def test_content_diff_text(self):
        text = fs.content_diff('/etc/x', b'a\nb\n', b'a\nc\n')
        assert text.splitlines() == ['--- /etc/x (before)', '+++ /etc/x (after)', '@@ -1,2 +1,2 @@', ' a', '-b', '+c']

    def test_content_diff_created_and_no_trailing_newline(self):
        text = fs.content_diff('/etc/x', None, b'one')
        assert text.splitlines() == ['--- /etc/x (absent)', '+++ /etc/x (after)', '@@ -0,0 +1 @@', '+one', '\\ No newline at end of file']

    @pytest.mark.parametrize('before, after', [
        (b'text\n', b'\x00\x01binary'),
        (b'\xff\xfe not utf-8', b'text\n'),
        (b'small\n', b'x' * (fs.DIFF_MAX_BYTES + 1)),
        (b'y\n' * (fs.DIFF_MAX_BYTES // 2 + 1), b'small\n'),
    ])
    def test_content_diff_skips_binary_and_large(self, before, after):
        text = fs.content_diff('/etc/x', before, after)
        assert text == '/etc/x: content changed (diff skipped: binary content or larger than 262144 bytes)\n'

    def test_resolve_numeric_ids(self):
        assert fs.resolve_user('0') == 0
        assert fs.resolve_user('no-such-user-tm') is None
        assert fs.resolve_group('no-such-group-tm') is None
        assert fs.resolve_user(USER) == os.getuid()


# ---------------------------------------------------------------------------
# The module against tmp_path
# ---------------------------------------------------------------------------

class TestFiles:
    def test_create_update_attributes_unchanged(self, tmp_path):
        (tmp_path / 'same').write_bytes(b'same\n')
        os.chmod(str(tmp_path / 'same'), 0o644)
        (tmp_path / 'old').write_bytes(b'old\n')
        os.chmod(str(tmp_path / 'old'), 0o644)
        (tmp_path / 'moded').write_bytes(b'moded\n')
        os.chmod(str(tmp_path / 'moded'), 0o666)
        args = {'files': [
            f(tmp_path / 'new', 'new ü\n', '0640'),
            f(tmp_path / 'old', 'new content\n'),
            f(tmp_path / 'moded', 'moded\n', '0600'),
            f(tmp_path / 'same', 'same\n'),
        ]}
        result = run_module(args)
        assert result['changed'] is True
        assert states(result) == ['created', 'updated', 'attributes', 'unchanged']
        assert result['changed_paths'] == [str(tmp_path / n) for n in ('new', 'old', 'moded')]
        assert (tmp_path / 'new').read_bytes() == 'new ü\n'.encode('utf-8')
        assert (tmp_path / 'old').read_bytes() == b'new content\n'
        assert mode_of(tmp_path / 'new') == 0o640
        assert mode_of(tmp_path / 'moded') == 0o600
        assert leftovers(tmp_path) == []

        again = run_module(args)
        assert again['changed'] is False
        assert states(again) == ['unchanged'] * 4
        assert again['changed_paths'] == []

    def test_check_mode_reports_the_same_and_writes_nothing(self, tmp_path):
        (tmp_path / 'old').write_bytes(b'old\n')
        os.chmod(str(tmp_path / 'old'), 0o600)
        (tmp_path / 'moded').write_bytes(b'm\n')
        os.chmod(str(tmp_path / 'moded'), 0o600)
        args = {'directories': [d(tmp_path / 'sub' / 'dir', '0750')],
                'files': [f(tmp_path / 'sub' / 'dir' / 'x', 'x\n'), f(tmp_path / 'old', 'new\n'),
                          f(tmp_path / 'moded', 'm\n', '0644')]}
        before = sorted(os.listdir(str(tmp_path)))
        checked = run_module(args, check_mode=True)
        assert sorted(os.listdir(str(tmp_path))) == before
        assert (tmp_path / 'old').read_bytes() == b'old\n'
        assert mode_of(tmp_path / 'moded') == 0o600
        real = run_module(args)
        for key in ('changed', 'files', 'directories', 'changed_paths'):
            assert checked[key] == real[key], key
        assert checked['changed'] is True

    def test_validation_failure_changes_nothing(self, tmp_path):
        (tmp_path / 'a').write_bytes(b'good a\n')
        os.chmod(str(tmp_path / 'a'), 0o644)
        args = {'files': [
            f(tmp_path / 'a', 'good a, new\n', validate='grep -q good %s'),
            f(tmp_path / 'b', 'bad b\n', validate='grep -q good %s'),
            f(tmp_path / 'c', 'no validation\n'),
        ]}
        result = run_module(args, expect_fail=True)
        assert str(tmp_path / 'b') in result['msg']
        assert str(tmp_path / 'a') + ':' not in result['msg']
        assert 'no file changed' in result['msg']
        assert (tmp_path / 'a').read_bytes() == b'good a\n'
        assert not (tmp_path / 'b').exists()
        assert not (tmp_path / 'c').exists()
        assert leftovers(tmp_path) == []
        assert result['changed'] is False

    def test_validation_output_in_message_and_staged_file_checked(self, tmp_path):
        # The validator sees the staged file with the new content and the final mode.
        script = tmp_path / 'check.sh'
        script.write_text('#!/bin/sh\necho "mode $(stat -c %a "$1")"; cat "$1" >&2; exit 3\n')
        os.chmod(str(script), 0o755)
        args = {'files': [f(tmp_path / 'conf', 'staged content\n', '0640', validate='%s %%s' % script)]}
        result = run_module(args, expect_fail=True)
        assert 'exit code 3' in result['msg']
        assert 'stdout: mode 640' in result['msg']
        assert 'stderr: staged content' in result['msg']

    def test_validate_passes_and_is_skipped_when_unchanged_or_check_mode(self, tmp_path):
        marker = tmp_path / 'ran'
        script = tmp_path / 'check.sh'
        script.write_text('#!/bin/sh\necho x >> %s\ngrep -q ok "$1"\n' % marker)
        os.chmod(str(script), 0o755)
        args = {'files': [f(tmp_path / 'conf', 'ok\n', validate='%s %%s' % script)]}
        run_module(args, check_mode=True)
        assert not marker.exists()
        assert run_module(args)['changed'] is True
        assert marker.read_text() == 'x\n'
        assert run_module(args)['changed'] is False
        assert marker.read_text() == 'x\n'

    def test_missing_directory_fails_before_changes_but_not_in_check_mode(self, tmp_path):
        args = {'files': [f(tmp_path / 'first', '1\n'), f(tmp_path / 'missing' / 'x', 'x\n')]}
        result = run_module(args, expect_fail=True)
        assert 'directory %s does not exist' % (tmp_path / 'missing') in result['msg']
        assert not (tmp_path / 'first').exists()
        checked = run_module(args, check_mode=True)
        assert checked['changed'] is True
        assert states(checked) == ['created', 'created']
        assert any('does not exist' in w for w in checked['warnings'])

    @pytest.mark.parametrize('field', ['owner', 'group'])
    def test_unknown_owner_fails_before_changes(self, tmp_path, field):
        args = {'files': [f(tmp_path / 'first', '1\n'), f(tmp_path / 'second', '2\n', **{field: 'no-such-name-tm'})]}
        result = run_module(args, expect_fail=True)
        assert 'no-such-name-tm' in result['msg'] and str(tmp_path / 'second') in result['msg']
        assert not (tmp_path / 'first').exists()

    def test_unknown_owner_is_a_change_in_check_mode(self, tmp_path):
        (tmp_path / 'same').write_bytes(b'same\n')
        os.chmod(str(tmp_path / 'same'), 0o644)
        args = {'files': [f(tmp_path / 'same', 'same\n', owner='no-such-user-tm')]}
        result = run_module(args, check_mode=True, diff=True)
        assert result['changed'] is True
        assert states(result) == ['attributes']
        assert any('no-such-user-tm' in w for w in result['warnings'])
        assert 'user not found' in result['diff'][0]['prepared']

    @pytest.mark.parametrize('files, message', [
        ([{'dest': 'relative/x', 'content': 'x', 'mode': '0644'}], 'must be absolute'),
        ([{'dest': '/tmp/x', 'content': 'x', 'mode': '644x'}], 'octal string'),
        ([{'dest': '/tmp/x', 'mode': '0644'}], 'content is required'),
        ([{'dest': '/tmp/x', 'src': 'x.conf', 'mode': '0644'}], 'read by the action plugin'),
        ([{'dest': '/tmp/x', 'content': 'x', 'mode': '0644'}, {'dest': '/tmp//x', 'content': 'y', 'mode': '0644'}], 'more than once'),
        ([{'dest': '/tmp/x', 'content': 'x', 'mode': '0644', 'validate': 'true'}], 'must contain %s'),
    ])
    def test_invalid_input(self, files, message):
        result = run_module({'files': files}, expect_fail=True)
        assert message in result['msg']

    def test_destination_directory_is_an_error(self, tmp_path):
        (tmp_path / 'dir').mkdir()
        result = run_module({'files': [f(tmp_path / 'dir', 'x\n')]}, expect_fail=True)
        assert 'is a directory' in result['msg']

    def test_symlink_is_replaced_not_followed(self, tmp_path):
        target = tmp_path / 'target'
        target.write_bytes(b'target\n')
        os.symlink(str(target), str(tmp_path / 'link'))
        result = run_module({'files': [f(tmp_path / 'link', 'new\n')]})
        assert states(result) == ['updated']
        assert not os.path.islink(str(tmp_path / 'link'))
        assert target.read_bytes() == b'target\n'

    @pytest.mark.skipif(not IS_ROOT, reason='changing owners needs root')
    def test_owner_and_group_corrected(self, tmp_path):
        path = tmp_path / 'owned'
        path.write_bytes(b'x\n')
        os.chmod(str(path), 0o644)
        os.chown(str(path), 65534, 65534)
        result = run_module({'files': [f(path, 'x\n', owner='root', group='root')]})
        assert states(result) == ['attributes']
        st = os.lstat(str(path))
        assert (st.st_uid, st.st_gid) == (0, 0)


class TestDirectories:
    def test_created_with_parents_and_corrected(self, tmp_path):
        target = tmp_path / 'p1' / 'p2' / 'leaf'
        existing = tmp_path / 'existing'
        existing.mkdir()
        os.chmod(str(existing), 0o777)
        args = {'directories': [d(target, '0750'), d(existing, '0700')],
                'files': [f(target / 'file', 'f\n', '0600')]}
        result = run_module(args)
        assert result['directories'] == [
            {'path': str(tmp_path / 'p1'), 'state': 'created', 'parent': True},
            {'path': str(tmp_path / 'p1' / 'p2'), 'state': 'created', 'parent': True},
            {'path': str(target), 'state': 'created'},
            {'path': str(existing), 'state': 'attributes'},
        ]
        assert mode_of(target) == 0o750
        assert mode_of(tmp_path / 'p1') == 0o755
        assert mode_of(tmp_path / 'p1' / 'p2') == 0o755
        assert mode_of(existing) == 0o700
        assert (target / 'file').read_bytes() == b'f\n'
        assert result['changed_paths'][:4] == [str(tmp_path / 'p1'), str(tmp_path / 'p1' / 'p2'), str(target), str(existing)]
        again = run_module(args)
        assert again['changed'] is False
        assert states(again, 'directories') == ['unchanged', 'unchanged']

    def test_directories_only(self, tmp_path):
        result = run_module({'directories': [d(tmp_path / 'only', '0700')]})
        assert result['changed'] is True and result['files'] == []
        assert mode_of(tmp_path / 'only') == 0o700

    def test_only_if_missing_creates_but_leaves_an_existing_directory_alone(self, tmp_path):
        existing = tmp_path / 'home'
        existing.mkdir(mode=0o700)
        os.chmod(existing, 0o700)
        args = {'directories': [dict(d(existing, '0755'), only_if_missing=True), dict(d(tmp_path / 'new', '0755'), only_if_missing=True)],
                'files': [{'dest': str(existing / 'report.json'), 'content': '{}\n', 'mode': '0644'}]}
        result = run_module(args)
        assert states(result, 'directories') == ['unchanged', 'created']
        assert mode_of(existing) == 0o700, 'the existing directory was opened up'
        assert mode_of(tmp_path / 'new') == 0o755
        assert (existing / 'report.json').read_bytes() == b'{}\n'
        assert run_module(args)['changed'] is False

    def test_file_in_place_of_directory_is_an_error(self, tmp_path):
        (tmp_path / 'plain').write_bytes(b'x')
        result = run_module({'directories': [d(tmp_path / 'plain')]}, expect_fail=True)
        assert 'not a directory' in result['msg']

    def test_neither_files_nor_directories(self):
        result = run_module({}, expect_fail=True)
        assert 'files' in result['msg'] and 'directories' in result['msg']


class TestDiffAndLogging:
    def test_one_diff_per_changed_path(self, tmp_path):
        (tmp_path / 'old').write_bytes(b'keep\nold line\n')
        os.chmod(str(tmp_path / 'old'), 0o644)
        (tmp_path / 'same').write_bytes(b'same\n')
        os.chmod(str(tmp_path / 'same'), 0o644)
        (tmp_path / 'moded').write_bytes(b'm\n')
        os.chmod(str(tmp_path / 'moded'), 0o600)
        args = {'files': [f(tmp_path / 'old', 'keep\nnew line\n'), f(tmp_path / 'same', 'same\n'),
                          f(tmp_path / 'moded', 'm\n'), f(tmp_path / 'one', 'single line secret\n')]}
        result = run_module(args, diff=True)
        prepared = [item['prepared'] for item in result['diff']]
        assert len(prepared) == 3
        assert prepared[0].splitlines() == ['--- %s (before)' % (tmp_path / 'old'), '+++ %s (after)' % (tmp_path / 'old'),
                                            '@@ -1,2 +1,2 @@', ' keep', '-old line', '+new line']
        assert prepared[1] == '%s: mode: 0600 -> 0644\n' % (tmp_path / 'moded')
        # A one-line content is the whole no_log value: the diff must still show it.
        assert '+single line secret\n' in prepared[2]
        assert '********' not in ''.join(prepared)

    def test_no_diff_without_diff_mode_and_no_content_in_result(self, tmp_path):
        args = {'files': [f(tmp_path / 'secret', 'top secret value\n'), f(tmp_path / 'short', 'e')]}
        result = run_module(args)
        assert 'diff' not in result
        text = json.dumps(result)
        assert 'top secret value' not in text
        # A short content must not mask unrelated strings (here the "e" in every path and state).
        assert '********' not in text
        assert result['files'][0] == {'path': str(tmp_path / 'secret'), 'state': 'created'}
        module_args = result['invocation']['module_args']
        assert [entry['content'] for entry in module_args['files']] == ['VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'] * 2

    def test_content_is_not_logged_on_the_host(self, tmp_path):
        logged = []
        run_module({'files': [f(tmp_path / 'secret', 'top secret value\nline two\n')]}, logged=logged)
        assert logged, 'AnsibleModule did not log its invocation'
        dump = repr(logged)
        assert 'top secret value' not in dump
        assert str(tmp_path / 'secret') in dump
        assert 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER' in dump or '********' in dump


def p(path, mode='0640', **kwargs):
    entry = {'path': str(path), 'mode': mode, 'owner': USER, 'group': GROUP}
    entry.update(kwargs)
    return entry


class TestPermissions:
    def test_corrects_mode_and_leaves_the_content_and_times_alone(self, tmp_path):
        log = tmp_path / 'mail.log'
        log.write_bytes(b'line one\n')
        os.chmod(str(log), 0o600)
        os.utime(str(log), (1000000000, 1000000000))
        result = run_module({'permissions': [p(log)]}, diff=True)
        assert result['changed'] is True and states(result, 'permissions') == ['attributes']
        assert result['changed_paths'] == [str(log)] and result['files'] == []
        assert mode_of(log) == 0o640 and log.read_bytes() == b'line one\n'
        assert os.stat(str(log)).st_mtime == 1000000000
        assert [item['prepared'] for item in result['diff']] == ['%s: mode: 0600 -> 0640\n' % log]
        again = run_module({'permissions': [p(log)]})
        assert again['changed'] is False and states(again, 'permissions') == ['unchanged']

    def test_a_missing_file_fails_and_nothing_changes_also_in_check_mode(self, tmp_path):
        other = tmp_path / 'other'
        other.write_bytes(b'x')
        os.chmod(str(other), 0o600)
        for check_mode in (True, False):
            result = run_module({'permissions': [p(other), p(tmp_path / 'missing')]}, check_mode=check_mode, expect_fail=True)
            assert 'permissions: %s: does not exist' % (tmp_path / 'missing') in result['msg']
            assert mode_of(other) == 0o600

    def test_create_makes_an_empty_file_only_when_missing(self, tmp_path):
        log = tmp_path / 'new.log'
        planned = run_module({'permissions': [p(log, create=True)]}, check_mode=True)
        assert states(planned, 'permissions') == ['created'] and not log.exists()
        result = run_module({'permissions': [p(log, create=True)]})
        assert states(result, 'permissions') == ['created']
        assert log.read_bytes() == b'' and mode_of(log) == 0o640
        log.write_bytes(b'written by a daemon\n')
        result = run_module({'permissions': [p(log, mode='0600', create=True)]})
        assert states(result, 'permissions') == ['attributes'] and log.read_bytes() == b'written by a daemon\n'

    def test_the_touch_keeps_a_file_that_appeared_after_the_plan(self, tmp_path):
        log = tmp_path / 'raced.log'
        item = {'path': str(log), 'uid': os.getuid(), 'gid': os.getgid(), 'mode': 0o640}
        log.write_bytes(b'a daemon was faster\n')
        inode = os.stat(str(log)).st_ino
        core._touch(item)
        assert log.read_bytes() == b'a daemon was faster\n' and os.stat(str(log)).st_ino == inode and mode_of(log) == 0o640

    @pytest.mark.parametrize('kind', ['symlink', 'directory'])
    def test_anything_but_a_regular_file_fails(self, tmp_path, kind):
        target = tmp_path / 'target'
        target.write_bytes(b'x')
        path = tmp_path / 'path'
        if kind == 'symlink':
            path.symlink_to(target)
        else:
            path.mkdir()
        result = run_module({'permissions': [p(path, create=True)]}, expect_fail=True)
        assert 'exists and is not a regular file' in result['msg']

    def test_a_path_also_listed_as_a_file_fails(self, tmp_path):
        result = run_module({'files': [f(tmp_path / 'x', 'x\n')], 'permissions': [p(tmp_path / 'x')]}, expect_fail=True)
        assert 'permissions: %s: listed more than once' % (tmp_path / 'x') in result['msg']
        assert not (tmp_path / 'x').exists()

    def test_files_first_then_permissions_in_one_run(self, tmp_path):
        result = run_module({'directories': [d(tmp_path / 'keys', mode='0710')],
                             'files': [f(tmp_path / 'keys' / 'cert.pem', 'CERT\n', mode='0644')],
                             'permissions': [p(tmp_path / 'keys' / 'key.pem', mode='0600', create=True)]})
        assert result['changed_paths'] == [str(tmp_path / 'keys'), str(tmp_path / 'keys' / 'cert.pem'), str(tmp_path / 'keys' / 'key.pem')]
        assert mode_of(tmp_path / 'keys' / 'key.pem') == 0o600
