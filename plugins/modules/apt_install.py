#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: apt_install
short_description: Install missing Debian packages in one apt-get transaction, without python3-apt
version_added: "0.4.0"
description:
  - Reads which of O(name) are installed (C(dpkg-query)) and installs the others with one
    C(apt-get install), after one C(apt-get update) when O(update_cache) is true. When every
    package is installed, nothing else runs and the task reports C(changed=false).
  - Needs no Python package on the host. On a host without C(python3-apt),
    M(ansible.builtin.apt) installs that package first in a transaction of its own and updates the
    package lists twice; this action updates them once and runs dpkg once (measured in
    C(docs/benchmarks.md)).
  - Installs without recommended packages unless O(install_recommends) is true, keeps existing
    configuration files (C(--force-confdef), C(--force-confold)) and asks no questions
    (C(DEBIAN_FRONTEND=noninteractive)); the packages' questions take the answers of O(debconf),
    or their defaults.
  - With O(hold_service_starts), no maintainer script starts a service during the transaction.
    A C(/usr/sbin/policy-rc.d) that refuses every start (exit code 101) is put in place for the
    transaction and removed when it ends, whether it succeeded or not. A host that already has a
    C(policy-rc.d) keeps its own, untouched.
  - After C(apt-get) succeeds, every package of O(name) is read again; one that is still not
    installed fails the task.
  - Only installs. Upgrades, removals and holds belong to M(ansible.builtin.apt).
author:
  - Stanford trusted_mail maintainers
options:
  name:
    description:
      - Names of the packages that must be installed (Debian package names, optionally with an
        architecture such as C(libc6:amd64)). Anything that is not a package name fails the task
        before the host is touched.
    type: list
    elements: str
    required: true
  install_recommends:
    description: Whether apt installs the packages' recommended packages too.
    type: bool
    default: false
  update_cache:
    description:
      - Run C(apt-get update) before the install. Only when something is to be installed.
    type: bool
    default: true
  hold_service_starts:
    description:
      - Keep maintainer scripts from starting services during the transaction (see above), so a
        service starts only once it is configured.
    type: bool
    default: false
  lock_timeout:
    description: Seconds C(apt-get) waits for the dpkg lock held by another process.
    type: int
    default: 60
  debconf:
    description:
      - Answers to the packages' questions, set with C(debconf-set-selections) right before the
        transaction, and only for packages of O(name) that it installs. Keeping the answers of an
        installed package in step belongs to M(ansible.builtin.debconf).
      - Every value must be one line of text; a boolean value is written as C(true) or C(false).
      - C(password) answers are refused. The answers reach the host in the command's environment,
        which C(-vvv) output shows; use M(ansible.builtin.debconf) with C(no_log) for those.
    type: list
    elements: dict
    suboptions:
      name:
        description: The package that asks the question.
        type: str
        required: true
      question:
        description: The question, for example C(postfix/main_mailer_type).
        type: str
        required: true
      vtype:
        description: The question's type.
        type: str
        required: true
        choices: [boolean, error, multiselect, note, select, string, text, title]
      value:
        description: The answer.
        type: raw
        required: true
  create_empty:
    description:
      - Files created empty right before the transaction, for the packages of O(name) that it
        installs, when the file does not exist (a symbolic link counts as existing). Missing parent
        directories are created; directories get mode C(0755), the file C(0644), owned by the
        user the task runs as.
      - For a package that leaves an existing configuration file alone and writes none of its
        own. Postfix, with the answer C(No configuration) to C(postfix/main_mailer_type), keeps an
        existing C(main.cf) and skips its own configuration pass, about 9 seconds of a fresh install
        spent waiting (see C(docs/benchmarks.md)).
      - A file made here stays when the transaction fails.
    type: list
    elements: dict
    suboptions:
      name:
        description: The package the file is created for.
        type: str
        required: true
      path:
        description: Absolute path of the file, without C(.) or C(..) parts.
        type: str
        required: true
attributes:
  check_mode:
    support: full
    description:
      - Nothing is installed and the package lists are not fetched. The packages that would be
        installed, dependencies included, come from C(apt-get --simulate).
      - On a host whose package lists are empty or stale (a fresh container), the simulation
        cannot find the packages; the task then reports the missing packages of O(name) as to be
        installed, with a warning.
      - The files of O(create_empty) are not reported in check mode.
  diff_mode:
    support: full
    description:
      - The packages installed (or that would be), one C(+ name) line each, and the files of
        O(create_empty) that were created, one C(+ path (empty file)) line each.
extends_documentation_fragment:
  - stanford.trusted_mail.host_command
notes:
  - Commands run with C(LC_ALL=C); become applies as it does to modules.
seealso:
  - module: ansible.builtin.apt
  - module: ansible.builtin.debconf
"""

EXAMPLES = r"""
- name: Install Postfix and ClamAV, services held until they are configured | TM-04 TM-05
  stanford.trusted_mail.apt_install:
    name: [postfix, clamav-daemon, clamav-milter]
    hold_service_starts: true
    # Postfix's package writes no main.cf of its own; the play configures it next.
    debconf:
      - {name: postfix, question: postfix/main_mailer_type, vtype: select, value: No configuration}
    create_empty:
      - {name: postfix, path: /etc/postfix/main.cf}
  notify: Start the mail services

- name: Install the log forwarder with its recommended packages, lists already fresh
  stanford.trusted_mail.apt_install:
    name: rsyslog-relp
    install_recommends: true
    update_cache: false
"""

RETURN = r"""
packages:
  description: The packages of O(name) that were not installed.
  returned: always
  type: list
  elements: str
  sample: [postfix, clamav-milter]
installed:
  description:
    - The packages the transaction set up, dependencies included (from C(apt-get)'s
      C(Setting up) lines; in check mode, from the simulation).
  returned: always
  type: list
  elements: str
  sample: [libclamav12, clamav-milter, postfix]
cache_updated:
  description: Whether C(apt-get update) ran.
  returned: always
  type: bool
files_created:
  description: The files of O(create_empty) that were created (empty in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/postfix/main.cf]
rc:
  description: The exit code of the install script (C(apt-get)'s when it failed).
  returned: when something was installed, not in check mode
  type: int
stdout:
  description: What C(apt-get) wrote to standard output.
  returned: when something was installed, not in check mode
  type: str
stdout_lines:
  description: RV(stdout) split into lines.
  returned: when something was installed, not in check mode
  type: list
  elements: str
stderr:
  description: What C(apt-get) wrote to standard error.
  returned: when something was installed, not in check mode
  type: str
stderr_lines:
  description: RV(stderr) split into lines.
  returned: when something was installed, not in check mode
  type: list
  elements: str
"""
