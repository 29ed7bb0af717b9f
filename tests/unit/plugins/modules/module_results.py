# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the module unit tests share: a module's exit_json/fail_json turned into exceptions,
the module arguments patched in (ansible-core's own helper from 2.19 on), and the
outcome of a module's main()."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from unittest import mock

import pytest

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


def outcome(main, expect_fail=False):
    """Run a module's MAIN (its exit_json/fail_json patched to raise); return the result dict.

    The test fails when the module ends the other way than EXPECT_FAIL says, or not at all.
    """
    try:
        main()
    except ExitJson as exc:
        if expect_fail:
            pytest.fail('module succeeded unexpectedly: %r' % exc.result)
        return exc.result
    except FailJson as exc:
        if not expect_fail:
            pytest.fail('module failed unexpectedly: %r' % exc.result)
        return exc.result
    pytest.fail('module did not call exit_json or fail_json')
