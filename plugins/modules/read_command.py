#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: read_command
short_description: Run a command that only reads the host, without a module run
version_added: "0.4.0"
description:
  - Runs one command on the managed host through the connection's shell and returns its exit
    code and output, like M(ansible.builtin.command) with O(ansible.builtin.command#module:argv).
  - Nothing is sent to the host but the command line. M(ansible.builtin.command) ships a Python
    module each time, and ansible-core spends about 0.2 s of the host's CPU on every module run
    before the module starts (measured in C(docs/benchmarks.md)); this runs in the time the
    command and the connection take.
  - B(Only for commands that change nothing.) The action runs in check mode as well, always
    reports C(changed=false), and has no C(creates), C(removes) or C(stdin). Anything that
    changes the host belongs in a module.
  - Every word of O(argv) is quoted for the POSIX shell, so no word is split, globbed or
    expanded. To use shell syntax, run a shell explicitly (C(argv=[sh, -c, "..."])).
  - The command runs with C(LC_ALL=C), so that messages and formats do not depend on the
    locale the connection brings; the task's C(environment) keyword can set another. C(become)
    applies as it does to modules.
  - Over the C(ssh) connection the command gets no terminal (as a module run gets none), so
    its standard error and output stay apart and its line ends are not rewritten.
author:
  - Stanford trusted_mail maintainers
options:
  argv:
    description:
      - The program and its arguments.
    type: list
    elements: str
    required: true
attributes:
  check_mode:
    support: full
    description: The command runs in check mode too; it must only read.
  diff_mode:
    support: none
extends_documentation_fragment:
  - stanford.trusted_mail.host_command
notes:
  - A non-zero exit code fails the task, as with M(ansible.builtin.command); use C(failed_when)
    to accept other codes.
  - The output is decoded as UTF-8; bytes that are not valid UTF-8 become replacement
    characters.
seealso:
  - module: ansible.builtin.command
  - module: ansible.builtin.raw
"""

EXAMPLES = r"""
- name: Read the installed packages (dpkg-query exits 1 for a name it never saw)
  stanford.trusted_mail.read_command:
    argv: [dpkg-query, -W, '-f=${db:Status-Abbrev}${Package}\n', postfix, clamav-daemon]
  register: _dpkg
  failed_when: _dpkg.rc not in [0, 1]

- name: Read the effective SSH settings
  stanford.trusted_mail.read_command:
    argv: [/usr/sbin/sshd, -T]
  register: _sshd_t
"""

RETURN = r"""
cmd:
  description: The command as given in O(argv).
  returned: always
  type: list
  elements: str
  sample: [/usr/sbin/sshd, -T]
rc:
  description: The exit code.
  returned: always
  type: int
  sample: 0
stdout:
  description: What the command wrote to standard output.
  returned: always
  type: str
stdout_lines:
  description: RV(stdout) split into lines.
  returned: always
  type: list
  elements: str
stderr:
  description: What the command wrote to standard error.
  returned: always
  type: str
stderr_lines:
  description: RV(stderr) split into lines.
  returned: always
  type: list
  elements: str
"""
