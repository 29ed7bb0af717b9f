# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the stanford.trusted_mail.apt_install action.

The action's decisions and its input checks, with ``run_argv`` replaced by a stub host that
answers dpkg-query and apt-get. The install script itself runs against real apt and dpkg in
every molecule scenario (site.yml's one install, and each role's own); its guard against
service starts is run here through a real /bin/sh with stub apt-get and debconf programs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
from unittest import mock

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.stanford.trusted_mail.plugins.action import apt_install as ai


class Host:
    """Answers dpkg-query and apt-get like a host with INSTALLED packages; records every command."""

    def __init__(self, installed=(), install_rc=0, simulate_rc=0, installs=True):
        self.installed = set(installed)
        self.install_rc = install_rc
        self.simulate_rc = simulate_rc
        self.installs = installs
        self.commands = []

    def __call__(self, action, argv, environment=None):
        self.commands.append((argv, dict(environment or {})))
        if argv[0] == 'dpkg-query':
            names = argv[3:]
            lines = ['ii  %s' % name for name in names if name in self.installed]
            return self._done(0 if len(lines) == len(names) else 1, '\n'.join(lines), '')
        if argv[:2] == ['apt-get', '-s']:
            names = argv[argv.index('--') + 1:]
            if self.simulate_rc:
                return self._done(self.simulate_rc, '', 'E: Unable to locate package %s' % names[0])
            out = '\n'.join(['Inst libdep (1.0 Debian:12/stable [amd64])'] + ['Inst %s (1.0 Debian:12/stable [amd64])' % n for n in names])
            return self._done(0, out, '')
        if argv[:2] == ['sh', '-c']:
            names = argv[4:]
            if self.install_rc:
                return self._done(self.install_rc, 'Reading package lists...', 'E: Unable to locate package %s' % names[-1])
            if self.installs:
                self.installed.update(names)
            created = ['stanford.trusted_mail.apt_install: created the empty file %s' % path
                       for path in (environment or {}).get('TM_EMPTY', '').splitlines()]
            out = '\n'.join(created + ['Setting up libdep:amd64 (1.0) ...'] + ['Setting up %s (1.0) ...' % n for n in names])
            return self._done(0, out, '')
        raise AssertionError('unexpected command %r' % argv)

    @staticmethod
    def _done(rc, out, err):
        return dict(rc=rc, stdout=out, stderr=err, stdout_lines=out.splitlines(), stderr_lines=err.splitlines())

    def installs_run(self):
        return [(argv, env) for argv, env in self.commands if argv[:2] == ['sh', '-c']]


def run(args, host, check_mode=False, diff=False):
    task = mock.Mock(args=args, async_val=0, check_mode=check_mode, diff=diff)
    action = ai.ActionModule(task, mock.Mock(), mock.Mock(), loader=None, templar=None, shared_loader_obj=None)
    with mock.patch.object(ai, 'run_argv', host):
        return action.run(task_vars={})


class TestDecisions:
    def test_everything_installed_runs_only_the_read(self):
        host = Host(installed=['postfix', 'nftables'])
        result = run({'name': ['postfix', 'nftables']}, host)
        assert result['changed'] is False and result['packages'] == [] and not result.get('failed')
        assert [argv[0] for argv, _ in host.commands] == ['dpkg-query']

    def test_installs_only_the_missing_packages_and_checks_them_after(self):
        host = Host(installed=['nftables'])
        result = run({'name': ['postfix', 'nftables', 'aide'], 'hold_service_starts': True}, host, diff=True)
        assert result['changed'] is True and not result.get('failed')
        assert result['packages'] == ['postfix', 'aide']
        assert result['installed'] == ['libdep', 'postfix', 'aide']
        assert result['diff'] == {'prepared': '+ libdep\n+ postfix\n+ aide\n'}
        (argv, env), = host.installs_run()
        assert argv[4:] == ['postfix', 'aide']
        assert env['TM_HOLD'] == '1' and env['TM_UPDATE'] == '1' and env['TM_RECOMMENDS'] == 'false'
        assert env['TM_LOCK'] == '60' and env['LC_ALL'] == 'C'
        assert [argv[0] for argv, _ in host.commands] == ['dpkg-query', 'sh', 'dpkg-query']

    def test_options_reach_the_script(self):
        host = Host()
        run({'name': ['rsyslog-relp'], 'install_recommends': True, 'update_cache': False, 'lock_timeout': 5}, host)
        (_, env), = host.installs_run()
        assert env['TM_HOLD'] == '0' and env['TM_UPDATE'] == '0' and env['TM_RECOMMENDS'] == 'true' and env['TM_LOCK'] == '5'

    def test_a_failed_apt_get_fails_with_its_last_error(self):
        host = Host(install_rc=100)
        result = run({'name': ['tm-no-such-package']}, host)
        assert result['failed'] is True and result['rc'] == 100 and result['changed'] is False
        assert result['msg'].endswith('E: Unable to locate package tm-no-such-package')

    def test_a_package_still_missing_after_apt_get_fails(self):
        host = Host(installs=False)
        result = run({'name': ['postfix']}, host)
        assert result['failed'] is True and 'still not installed after apt-get: postfix' in result['msg']

    def test_an_unreadable_package_database_fails_before_installing(self):
        host = Host()
        with mock.patch.object(ai, 'run_argv', lambda action, argv, environment=None: Host._done(2, '', 'dpkg-query: error')):
            task = mock.Mock(args={'name': ['postfix']}, async_val=0, check_mode=False, diff=False)
            action = ai.ActionModule(task, mock.Mock(), mock.Mock(), loader=None, templar=None, shared_loader_obj=None)
            result = action.run(task_vars={})
        assert result['failed'] is True and 'dpkg-query failed' in result['msg']
        assert host.commands == []


class TestCheckMode:
    def test_reports_the_simulated_transaction_and_installs_nothing(self):
        host = Host(installed=['nftables'])
        result = run({'name': ['postfix', 'nftables']}, host, check_mode=True, diff=True)
        assert result['changed'] is True and not result.get('failed')
        assert result['installed'] == ['libdep', 'postfix']
        assert result['diff'] == {'prepared': '+ libdep\n+ postfix\n'}
        assert host.installs_run() == []
        sim, = [argv for argv, _ in host.commands if argv[0] == 'apt-get']
        assert sim[:2] == ['apt-get', '-s'] and 'update' not in sim

    def test_without_package_lists_reports_the_missing_packages_with_a_warning(self):
        host = Host(simulate_rc=100)
        result = run({'name': ['postfix', 'aide']}, host, check_mode=True)
        assert result['changed'] is True and not result.get('failed')
        assert result['installed'] == ['postfix', 'aide']
        assert 'could not simulate' in result['warnings'][0]
        assert host.installs_run() == []

    def test_nothing_missing_is_unchanged(self):
        host = Host(installed=['postfix'])
        result = run({'name': ['postfix']}, host, check_mode=True)
        assert result['changed'] is False
        assert [argv[0] for argv, _ in host.commands] == ['dpkg-query']


class TestDebconf:
    ANSWERS = [
        {'name': 'postfix', 'question': 'postfix/main_mailer_type', 'vtype': 'select', 'value': 'Internet Site'},
        {'name': 'postfix', 'question': 'postfix/mailname', 'vtype': 'string', 'value': 'mail.example.edu'},
        {'name': 'aide', 'question': 'aide/aideinit', 'vtype': 'boolean', 'value': False},
    ]

    def test_answers_only_for_the_packages_installed(self):
        host = Host(installed=['aide'])
        run({'name': ['postfix', 'aide'], 'debconf': self.ANSWERS}, host)
        (_, env), = host.installs_run()
        assert env['TM_DEBCONF'] == ('postfix postfix/main_mailer_type select Internet Site\n'
                                     'postfix postfix/mailname string mail.example.edu')

    def test_a_boolean_answer_is_written_as_debconf_spells_it(self):
        host = Host()
        run({'name': ['aide'], 'debconf': self.ANSWERS[2:]}, host)
        (_, env), = host.installs_run()
        assert env['TM_DEBCONF'] == 'aide aide/aideinit boolean false'

    @pytest.mark.parametrize('answer, message', [
        ({'name': 'postfix', 'question': 'postfix/mailname', 'vtype': 'string', 'value': 'a\nb'}, 'one line'),
        ({'name': 'postfix', 'question': 'postfix/mailname', 'vtype': 'password', 'value': 'x'}, 'vtype must be one of'),
        ({'name': 'postfix', 'question': 'mailname', 'vtype': 'string', 'value': 'x'}, 'package/question'),
        ({'name': 'Postfix!', 'question': 'postfix/mailname', 'vtype': 'string', 'value': 'x'}, 'package name'),
        ({'name': 'postfix', 'question': 'postfix/mailname', 'vtype': 'string'}, 'exactly'),
        ('postfix postfix/mailname string x', 'must be a dict'),
    ])
    def test_bad_answers_fail_before_the_host_is_touched(self, answer, message):
        host = Host()
        with pytest.raises(AnsibleActionFail, match=message):
            run({'name': ['postfix'], 'debconf': [answer]}, host)
        assert host.commands == []


class TestCreateEmpty:
    FILES = [
        {'name': 'postfix', 'path': '/etc/postfix/main.cf'},
        {'name': 'aide', 'path': '/etc/aide/aide.conf'},
        {'name': 'postfix', 'path': '/etc/postfix/main.cf'},
    ]

    def test_files_only_for_the_packages_installed_and_each_once(self):
        host = Host(installed=['aide'])
        result = run({'name': ['postfix', 'aide'], 'create_empty': self.FILES}, host, diff=True)
        (_, env), = host.installs_run()
        assert env['TM_EMPTY'] == '/etc/postfix/main.cf'
        assert result['files_created'] == ['/etc/postfix/main.cf']
        assert '+ /etc/postfix/main.cf (empty file)' in result['diff']['prepared']

    def test_nothing_installed_creates_nothing(self):
        host = Host(installed=['postfix'])
        result = run({'name': ['postfix'], 'create_empty': self.FILES}, host)
        assert host.installs_run() == [] and result['files_created'] == [] and not result['changed']

    @pytest.mark.parametrize('entry, message', [
        ({'name': 'postfix', 'path': 'etc/postfix/main.cf'}, 'absolute path'),
        ({'name': 'postfix', 'path': '/etc/postfix/../shadow'}, 'absolute path'),
        ({'name': 'postfix', 'path': '/etc/./main.cf'}, 'absolute path'),
        ({'name': 'postfix', 'path': '/etc//main.cf'}, 'absolute path'),
        ({'name': 'postfix', 'path': '/etc/postfix/'}, 'absolute path'),
        ({'name': 'postfix', 'path': '/etc/main.cf\n/etc/shadow'}, 'absolute path'),
        ({'name': 'postfix', 'path': 1}, 'absolute path'),
        ({'name': 'Postfix', 'path': '/etc/postfix/main.cf'}, 'package name'),
        ({'path': '/etc/postfix/main.cf'}, 'exactly name, path'),
        ('/etc/postfix/main.cf', 'exactly name, path'),
    ])
    def test_bad_entries_fail_before_the_host_is_touched(self, entry, message):
        host = Host()
        with pytest.raises(AnsibleActionFail, match=message):
            run({'name': ['postfix'], 'create_empty': [entry]}, host)
        assert host.commands == []

    def test_not_a_list_fails(self):
        with pytest.raises(AnsibleActionFail, match='must be a list'):
            run({'name': ['postfix'], 'create_empty': {'name': 'postfix'}}, Host())


class TestInputs:
    @pytest.mark.parametrize('args, message', [
        ({'name': []}, 'non-empty list'),
        ({'name': None}, 'non-empty list'),
        ({'name': ['postfix; rm -rf /']}, 'not a Debian package name'),
        ({'name': ['-o']}, 'not a Debian package name'),
        ({'name': ['Postfix']}, 'not a Debian package name'),
        ({'name': ['postfix'], 'hold_service_starts': 'yes'}, 'must be true or false'),
        ({'name': ['postfix'], 'lock_timeout': -1}, 'whole number'),
        ({'name': ['postfix'], 'lock_timeout': True}, 'whole number'),
        ({'name': ['postfix'], 'debconf': {'name': 'postfix'}}, 'must be a list'),
    ])
    def test_bad_input_fails_before_the_host_is_touched(self, args, message):
        host = Host()
        with pytest.raises(AnsibleActionFail, match=message):
            run(args, host)
        assert host.commands == []

    def test_one_name_as_a_string_and_duplicates_once(self):
        assert ai.check_names('postfix') == ['postfix']
        assert ai.check_names(['postfix', 'aide', 'postfix', 'libc6:amd64']) == ['postfix', 'aide', 'libc6:amd64']

    def test_unknown_options_are_refused(self):
        task = mock.Mock(args={'name': ['postfix'], 'state': 'absent'}, async_val=0, check_mode=False, diff=False)
        action = ai.ActionModule(task, mock.Mock(), mock.Mock(), loader=None, templar=None, shared_loader_obj=None)
        with pytest.raises(AnsibleActionFail, match='state'):
            action.run(task_vars={})


@pytest.fixture
def fake_root(tmp_path):
    """The install script run by a real /bin/sh, with stub apt-get and debconf-set-selections on PATH
    and its policy-rc.d path pointed into TMP_PATH."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    log = tmp_path / 'log'
    policy = tmp_path / 'policy-rc.d'
    for name in ('apt-get', 'debconf-set-selections'):
        stub = bin_dir / name
        # Each stub records its arguments, stdin and whether the guard was in place, and fails on request.
        # and which files of TM_EMPTY exist when it runs.
        stub.write_text('#!/bin/sh\n{ echo "%s $*"; [ -t 0 ] || sed "s/^/stdin: /"; '
                        '[ -e "%s" ] && echo "guard: $(tail -n 1 %s)"; '
                        'for p in $TM_EMPTY; do [ -e "$p" ] && echo "present: $p"; done; } >>"%s"\n'
                        '[ "$TM_FAIL" = "%s" ] && exit 100\nexit 0\n' % (name, policy, policy, log, name))
        stub.chmod(0o755)
    script = ai.INSTALL_SCRIPT.replace('/usr/sbin/policy-rc.d', str(policy))

    def run_script(names, **env):
        environ = dict(os.environ, PATH='%s:%s' % (bin_dir, os.environ['PATH']), TM_HOLD='1', TM_UPDATE='1',
                       TM_LOCK='60', TM_RECOMMENDS='false', TM_DEBCONF='')
        environ.update(env)
        done = subprocess.run(['/bin/sh', '-c', script, 'sh'] + names, env=environ, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, check=False)
        run_script.stdout = done.stdout
        return done.returncode, log.read_text() if log.exists() else ''
    run_script.policy = policy
    return run_script


class TestInstallScript:
    def test_the_guard_is_in_place_for_the_transaction_and_gone_after(self, fake_root):
        rc, log = fake_root(['postfix', 'aide'])
        assert rc == 0
        assert 'apt-get -q -o DPkg::Lock::Timeout=60 update\nguard: exit 101' in log
        assert ('apt-get -q -y -o DPkg::Lock::Timeout=60 -o APT::Install-Recommends=false -o Dpkg::Options::=--force-confdef '
                '-o Dpkg::Options::=--force-confold install -- postfix aide\nguard: exit 101') in log
        assert not fake_root.policy.exists()

    def test_the_guard_goes_when_apt_get_fails(self, fake_root):
        rc, log = fake_root(['postfix'], TM_FAIL='apt-get')
        assert rc == 100
        assert 'install' not in log  # the failed update stopped the script
        assert not fake_root.policy.exists()

    def test_a_policy_the_host_had_stays_as_it_was(self, fake_root):
        fake_root.policy.write_text('#!/bin/sh\nexit 0\n')
        rc, log = fake_root(['postfix'])
        assert rc == 0 and 'guard: exit 0' in log
        assert fake_root.policy.read_text() == '#!/bin/sh\nexit 0\n'

    def test_no_guard_unless_asked_and_no_update_unless_asked(self, fake_root):
        rc, log = fake_root(['postfix'], TM_HOLD='0', TM_UPDATE='0')
        assert rc == 0 and 'guard' not in log and ' update' not in log

    def test_the_answers_go_to_debconf_before_the_install(self, fake_root):
        rc, log = fake_root(['postfix'], TM_DEBCONF='postfix postfix/mailname string mail.example.edu')
        assert rc == 0
        assert log.index('stdin: postfix postfix/mailname string mail.example.edu') < log.index('install -- postfix')

    def test_a_failed_debconf_stops_before_the_install(self, fake_root):
        rc, log = fake_root(['postfix'], TM_DEBCONF='postfix postfix/mailname string x', TM_FAIL='debconf-set-selections')
        assert rc == 100 and 'apt-get' not in log and not fake_root.policy.exists()

    def test_empty_files_exist_before_debconf_and_apt_get_and_existing_ones_stay(self, fake_root, tmp_path):
        new = tmp_path / 'etc' / 'postfix' / 'main.cf'
        kept = tmp_path / 'kept.cf'
        kept.write_text('myhostname = kept\n')
        link = tmp_path / 'link.cf'
        link.symlink_to(tmp_path / 'nowhere')
        rc, log = fake_root(['postfix'], TM_EMPTY='\n'.join(map(str, (new, kept, link))), TM_DEBCONF='postfix postfix/x string y')
        assert rc == 0
        assert new.read_bytes() == b'' and oct(new.stat().st_mode & 0o7777) == '0o644'
        assert oct(new.parent.stat().st_mode & 0o7777) == '0o755'
        assert kept.read_text() == 'myhostname = kept\n'
        assert link.is_symlink() and not (tmp_path / 'nowhere').exists()
        # Every stub (debconf-set-selections, apt-get update, apt-get install) saw the new file.
        assert log.count('present: %s' % new) == 3
        assert fake_root.stdout.splitlines() == ['stanford.trusted_mail.apt_install: created the empty file %s' % new]

    def test_a_file_that_cannot_be_made_stops_before_apt_get(self, fake_root, tmp_path):
        blocker = tmp_path / 'blocker'
        blocker.write_text('')
        rc, log = fake_root(['postfix'], TM_EMPTY=str(blocker / 'main.cf'))
        assert rc != 0 and 'apt-get' not in log and not fake_root.policy.exists()
