# -*- coding: utf-8 -*-

# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of stanford.trusted_mail.apt_install (the module file holds the documentation).

Installs missing Debian packages with apt-get through the connection's shell. On a host without
python3-apt, ansible.builtin.apt first runs ``apt-get update`` and a separate ``apt-get install
python3-apt``, then updates the lists a second time and installs the rest: two updates and two
dpkg runs (with their triggers) where one of each does. This action never needs python3-apt, so
it also plans in check mode on a fresh host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import shlex

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.stanford.trusted_mail.plugins.plugin_utils.host_command import READ_ENV, run_argv

NAME = 'apt_install'
# Debian policy 5.6.7: lower case letters, digits, + - and .; at least two characters,
# starting with a letter or digit. An architecture qualifier (:amd64) is allowed.
PACKAGE_RE = re.compile(r'^[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?$')
# apt-get's "Inst name (version ...)" lines of a simulation, and the "Setting up name:arch (version)"
# lines of a real run.
SIMULATED_RE = re.compile(r'^Inst (\S+) ')
SET_UP_RE = re.compile(r'^Setting up ([^\s:]+)(?::\S+)? ')
CREATED_RE = re.compile(r'^stanford\.trusted_mail\.apt_install: created the empty file (/.+)$')
# An absolute path without empty, "." or ".." components, and one line of text.
PATH_RE = re.compile(r'^(/(?!\.\.?(/|$))[^/\n\r]+)+$')
# The install itself, run by sh with the package names as "$@". The guard against service
# starts is set only when the host has none, and removed however the script ends.
INSTALL_SCRIPT = r'''
set -e
export DEBIAN_FRONTEND=noninteractive
if [ "$TM_HOLD" = 1 ] && [ ! -e /usr/sbin/policy-rc.d ] && [ ! -L /usr/sbin/policy-rc.d ]; then
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
  printf '#!/bin/sh\n# stanford.trusted_mail.apt_install: no service starts during this install\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 0755 /usr/sbin/policy-rc.d
fi
if [ -n "$TM_EMPTY" ]; then
  printf '%s\n' "$TM_EMPTY" | while IFS= read -r path; do
    if [ ! -e "$path" ] && [ ! -L "$path" ]; then
      (umask 022 && mkdir -p -- "${path%/*}" && : >>"$path")
      echo "stanford.trusted_mail.apt_install: created the empty file $path"
    fi
  done
fi
if [ -n "$TM_DEBCONF" ]; then
  printf '%s\n' "$TM_DEBCONF" | debconf-set-selections
fi
if [ "$TM_UPDATE" = 1 ]; then
  apt-get -q -o DPkg::Lock::Timeout="$TM_LOCK" update
fi
apt-get -q -y -o DPkg::Lock::Timeout="$TM_LOCK" -o APT::Install-Recommends="$TM_RECOMMENDS" \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold install -- "$@"
'''


def check_names(names):
    """NAMES as a list of package names; anything that is not one is refused before the host is touched."""
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not names:
        raise AnsibleActionFail('%s: name must be a non-empty list of package names, got %r' % (NAME, names))
    bad = [name for name in names if not isinstance(name, str) or not PACKAGE_RE.match(name)]
    if bad:
        raise AnsibleActionFail('%s: not a Debian package name: %s' % (NAME, ', '.join(repr(name) for name in bad)))
    return list(dict.fromkeys(names))


def missing(names, dpkg_stdout):
    """The NAMES that dpkg-query's ``${db:Status-Abbrev}${Package}`` lines do not show installed ("ii")."""
    installed = set()
    for line in dpkg_stdout.splitlines():
        if line.startswith('ii '):
            installed.add(line.split()[-1])
    return [name for name in names if name.split(':')[0] not in installed]


DEBCONF_KEYS = frozenset(('name', 'question', 'vtype', 'value'))
# No password answers: the answers travel in the command's environment, which -vvv shows.
DEBCONF_TYPES = frozenset(('boolean', 'error', 'multiselect', 'note', 'select', 'string', 'text', 'title'))


def _entries(value, option, keys):
    """VALUE (None, or a list of dicts with exactly KEYS) as (label, dict) pairs for OPTION's checks."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise AnsibleActionFail('%s: %s must be a list of dicts, got %r' % (NAME, option, value))
    pairs = []
    for index, entry in enumerate(value):
        what = '%s: %s[%d]' % (NAME, option, index)
        if not isinstance(entry, dict) or set(entry) != keys:
            raise AnsibleActionFail('%s must be a dict with exactly %s, got %r' % (what, ', '.join(sorted(keys)), entry))
        pairs.append((what, entry))
    return pairs


def check_debconf(answers):
    """ANSWERS (a list of dicts: name, question, vtype, value) as debconf-set-selections lines, by package."""
    lines = []
    for what, answer in _entries(answers, 'debconf', DEBCONF_KEYS):
        name, question, vtype, value = (answer[key] for key in ('name', 'question', 'vtype', 'value'))
        if isinstance(value, bool):
            value = 'true' if value else 'false'
        if not isinstance(name, str) or not PACKAGE_RE.match(name):
            raise AnsibleActionFail('%s: name must be a package name, got %r' % (what, name))
        if not isinstance(question, str) or not re.match(r'^[^\s]+/[^\s]+$', question):
            raise AnsibleActionFail('%s: question must look like package/question, got %r' % (what, question))
        if vtype not in DEBCONF_TYPES:
            raise AnsibleActionFail('%s: vtype must be one of %s, got %r' % (what, ', '.join(sorted(DEBCONF_TYPES)), vtype))
        if not isinstance(value, str) or '\n' in value or '\r' in value:
            raise AnsibleActionFail('%s: value must be one line of text, got %r' % (what, value))
        lines.append((name, '%s %s %s %s' % (name, question, vtype, value)))
    return lines


def check_create_empty(entries):
    """ENTRIES (a list of dicts: name, path) as (package, path) pairs."""
    pairs = []
    for what, entry in _entries(entries, 'create_empty', frozenset(('name', 'path'))):
        if not isinstance(entry['name'], str) or not PACKAGE_RE.match(entry['name']):
            raise AnsibleActionFail('%s: name must be a package name, got %r' % (what, entry['name']))
        if not isinstance(entry['path'], str) or not PATH_RE.match(entry['path']):
            raise AnsibleActionFail('%s: path must be an absolute path without . or .. parts, got %r' % (what, entry['path']))
        pairs.append((entry['name'], entry['path']))
    return pairs


def check_bool(args, key, default):
    value = args.get(key, default)
    if not isinstance(value, bool):
        raise AnsibleActionFail('%s: %s must be true or false, got %r' % (NAME, key, value))
    return value


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('name', 'install_recommends', 'update_cache', 'hold_service_starts', 'lock_timeout', 'debconf',
                             'create_empty'))

    def run(self, tmp=None, task_vars=None):
        if task_vars is None:
            task_vars = {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = self._task.args
        names = check_names(args.get('name'))
        recommends = check_bool(args, 'install_recommends', False)
        update = check_bool(args, 'update_cache', True)
        hold = check_bool(args, 'hold_service_starts', False)
        debconf = check_debconf(args.get('debconf'))
        create_empty = check_create_empty(args.get('create_empty'))
        lock_timeout = args.get('lock_timeout', 60)
        if isinstance(lock_timeout, bool) or not isinstance(lock_timeout, int) or lock_timeout < 0:
            raise AnsibleActionFail('%s: lock_timeout must be a whole number of seconds, got %r' % (NAME, lock_timeout))

        read = self._read_installed(names)
        # 1: some name is unknown to dpkg (never installed); anything else is an error.
        if read['rc'] not in (0, 1):
            result.update(failed=True, msg='%s: dpkg-query failed (exit code %d): %s' % (NAME, read['rc'], read['stderr']))
            return result
        to_install = missing(names, read['stdout'])
        result.update(changed=bool(to_install), packages=to_install, installed=[], cache_updated=False, files_created=[])
        if not to_install:
            return result
        if self._task.check_mode:
            return self._simulate(result, to_install, recommends)

        # Answers and empty files only for the packages this transaction installs.
        installing = set(name.split(':')[0] for name in to_install)
        answers = '\n'.join(line for package, line in debconf if package in installing)
        empty = '\n'.join(dict.fromkeys(path for package, path in create_empty if package in installing))
        environment = dict(READ_ENV, TM_HOLD='1' if hold else '0', TM_UPDATE='1' if update else '0',
                           TM_LOCK=str(lock_timeout), TM_RECOMMENDS='true' if recommends else 'false', TM_DEBCONF=answers,
                           TM_EMPTY=empty)
        done = run_argv(self, ['sh', '-c', INSTALL_SCRIPT, 'sh'] + to_install, environment=environment)
        result.update(rc=done['rc'], stdout=done['stdout'], stderr=done['stderr'],
                      stdout_lines=done['stdout_lines'], stderr_lines=done['stderr_lines'], cache_updated=update)
        result['installed'] = [m.group(1) for m in map(SET_UP_RE.match, done['stdout_lines']) if m]
        result['files_created'] = [m.group(1) for m in map(CREATED_RE.match, done['stdout_lines']) if m]
        if done['rc'] != 0:
            result.update(failed=True, changed=bool(result['installed'] or result['files_created']), msg='%s: apt-get failed (exit code %d): %s'
                          % (NAME, done['rc'], (done['stderr_lines'] or done['stdout_lines'] or [''])[-1]))
            return result
        # apt-get succeeding is not enough: every package asked for must now be installed.
        still = missing(names, self._read_installed(names)['stdout'])
        if still:
            result.update(failed=True, msg='%s: still not installed after apt-get: %s' % (NAME, ', '.join(still)))
        if self._task.diff:
            result['diff'] = {'prepared': ''.join('+ %s\n' % name for name in result['installed'] or to_install)
                              + ''.join('+ %s (empty file)\n' % path for path in result['files_created'])}
        return result

    def _read_installed(self, names):
        """dpkg-query's status line of each of NAMES (architecture qualifiers dropped)."""
        return run_argv(self, ['dpkg-query', '-W', '-f=${db:Status-Abbrev}${Package}\\n'] + [name.split(':')[0] for name in names],
                        environment=READ_ENV)

    def _simulate(self, result, to_install, recommends):
        """Check mode: what apt-get would install, from a simulation (no lists are fetched)."""
        sim = run_argv(self, ['apt-get', '-s', '-q', '-o', 'APT::Install-Recommends=%s' % ('true' if recommends else 'false'),
                              'install', '--'] + to_install, environment=READ_ENV)
        if sim['rc'] == 0:
            result['installed'] = [m.group(1) for m in map(SIMULATED_RE.match, sim['stdout_lines']) if m]
        else:
            # A fresh host has no package lists yet; the real run fetches them first.
            result['installed'] = list(to_install)
            result.setdefault('warnings', []).append(
                '%s: check mode could not simulate the install (%s); reporting %s as to be installed'
                % (NAME, (sim['stderr_lines'] or ['apt-get -s failed'])[-1], ' '.join(shlex.quote(n) for n in to_install)))
        if self._task.diff:
            result['diff'] = {'prepared': ''.join('+ %s\n' % name for name in result['installed'])}
        return result
