# -*- coding: utf-8 -*-

# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """What the actions that send commands through the connection instead of a module share."""

    DOCUMENTATION = r"""
attributes:
  action:
    support: full
    description: An action plugin does the work; there is no module code.
  async:
    support: none
  become:
    support: full
  bypass_host_loop:
    support: none
  connection:
    support: full
  platform:
    platforms: posix
    description:
      - The connection's shell must be a POSIX shell (C(sh)). Over C(ssh) the commands get no
        terminal, as module runs get none.
"""
