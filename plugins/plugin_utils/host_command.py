# -*- coding: utf-8 -*-

# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a command on the managed host through the connection, without a module run.

Shared by the actions that read the host (read_command, systemd_units_info, file_set's read
before its module) and by systemd_units, whose only changes are systemctl verbs it decides on
the controller (check mode runs none of them). A module run costs ansible-core about 0.2 s
of the host's CPU before the module does anything (Python compiles ``ansible.module_utils``
from the module's zip on every run); a command sent through the connection costs what the
connection costs, a few milliseconds over a persistent SSH connection. Other changes to the
host belong in modules, with check mode and diff support.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shlex

from ansible.errors import AnsibleActionFail

# The environment of the reads: messages and formats in English whatever locale the
# connection brings (a task's environment keyword can still set another).
READ_ENV = {'LC_ALL': 'C'}


def check_argv(argv, plugin):
    """ARGV as a list of strings: numbers become strings; anything else but a string is refused."""
    if not isinstance(argv, list) or not argv:
        raise AnsibleActionFail('%s: argv must be a non-empty list of strings, got %r' % (plugin, argv))
    words = []
    for word in argv:
        if isinstance(word, (int, float)) and not isinstance(word, bool):
            word = str(word)
        if not isinstance(word, str) or '\x00' in word:
            raise AnsibleActionFail('%s: every argv word must be a string without NUL bytes, got %r' % (plugin, word))
        words.append(word)
    if not words[0]:
        raise AnsibleActionFail('%s: argv[0] (the program) is empty' % plugin)
    return words


def run_argv(action, argv, environment=None):
    """Run ARGV on the host of ACTION (an ActionBase) through its connection's shell.

    Every word is quoted for the POSIX shell, so the shell runs exactly ARGV (no globbing, no
    expansion). ENVIRONMENT (a dict) is set first, then the task's ``environment`` keyword, so
    a task can override it. Become applies as it does to modules. Returns ``rc``, ``stdout``,
    ``stderr``, ``stdout_lines`` and ``stderr_lines`` as ansible.builtin.command does: line
    ends at the end of the output are cut; output that is not UTF-8 is decoded with
    replacement characters.
    """
    connection = action._connection
    parts = []
    if environment:
        parts.append(connection._shell.env_prefix(**environment))
    task_environment = action._compute_environment_string()
    if task_environment:
        parts.append(task_environment)
    parts.append(' '.join(shlex.quote(word) for word in argv))
    # The ssh connection gives a command without input a terminal (-tt) unless told not to:
    # its output would come back with CRLF line ends and stderr mixed into stdout. Modules
    # never get one (their code goes in on stdin), so neither do these commands.
    tty = connection.has_option('use_tty') and connection.get_option('use_tty')
    if tty:
        connection.set_option('use_tty', False)
    try:
        result = action._low_level_execute_command(' '.join(parts))
    finally:
        if tty:
            connection.set_option('use_tty', tty)
    for stream in ('stdout', 'stderr'):
        text = result[stream].rstrip('\r\n')
        result[stream] = text
        result[stream + '_lines'] = text.splitlines()
    return result
