# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the module unit tests share: a module's exit_json/fail_json turned into exceptions,
and the module arguments patched in (ansible-core's own helper from 2.19 on)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from unittest import mock

from ansible.module_utils import basic


class ExitJson(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


class FailJson(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    import contextlib

    @contextlib.contextmanager
    def patch_module_args(args):
        data = json.dumps({'ANSIBLE_MODULE_ARGS': args}).encode()
        with mock.patch.object(basic, '_ANSIBLE_ARGS', data):
            yield
