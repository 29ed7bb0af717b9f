# -*- coding: utf-8 -*-

# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of stanford.trusted_mail.read_command (the module file holds the documentation).

Runs the command through the connection's shell instead of shipping a module to the host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.action import ActionBase

from ansible_collections.stanford.trusted_mail.plugins.plugin_utils.host_command import READ_ENV, check_argv, run_argv

NAME = 'read_command'


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('argv',))

    def run(self, tmp=None, task_vars=None):
        if task_vars is None:
            task_vars = {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        argv = check_argv(self._task.args.get('argv'), NAME)
        # Read-only by contract, so it runs in check mode too (the reads decide what check mode reports).
        result.update(run_argv(self, argv, environment=READ_ENV))
        result['cmd'] = argv
        result['changed'] = False
        if result['rc'] != 0:
            result['failed'] = True
            result['msg'] = 'non-zero return code %d' % result['rc']
        return result
