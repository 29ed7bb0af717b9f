#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: file_set
short_description: Install a set of files and directories with one remote module call
version_added: "0.3.0"
description:
  - Installs several files (and the directories they live in) on the managed host in one module
    call, where M(ansible.builtin.copy), M(ansible.builtin.template) and M(ansible.builtin.file)
    need several remote calls per file.
  - The action plugin of the same name runs on the controller first. It reads O(files[].src)
    files and renders O(files[].template) templates there and passes the result to the module as
    O(files[].content), so the module itself only ever receives O(files[].content).
  - Directories (O(directories)) are handled before files. A missing directory is created; when
    its parent directories are missing too, they are created with mode C(0755) and owned by
    C(root:root) (by the user running the module when that is not root). Owner, group and mode of
    a listed directory are corrected when they differ.
  - Every owner and group is resolved first. An unknown user or group fails the task naming the
    entry before anything on the host changes.
  - A file is rewritten only when its content differs (byte comparison). The new content is
    staged in a temporary file in the destination's directory, given its owner, group and mode,
    and checked with O(files[].validate). Only when every staged file passed its validation are
    the staged files renamed into place (atomic C(rename)), so a failed validation leaves every
    file untouched. Directories created or corrected in the same run stay as they are.
  - A file whose content matches but whose owner, group or mode differ is corrected in place.
  - Nothing else is preserved or managed (no backup, no SELinux context, no ACLs). A symbolic
    link at a destination is replaced by a regular file; a directory at a destination is an error.
author:
  - Stanford trusted_mail maintainers
options:
  files:
    description:
      - The files to install. At least one of O(files), O(directories) and O(permissions) is required.
    type: list
    elements: dict
    suboptions:
      dest:
        description:
          - Absolute path of the file on the managed host. Each path may appear only once.
          - Its directory must exist, or be listed in O(directories) (or be the parent of a listed
            directory). In check mode a missing directory is assumed to be created by an earlier
            task and the file is reported as created.
        type: path
        required: true
      content:
        description:
          - The exact content of the file, written as UTF-8 as given (no trailing newline is added).
          - Marked C(no_log), so the content is not written to the managed host's journal or syslog
            and the C(invocation) in the result shows it hidden.
          - Exactly one of O(files[].content), O(files[].src) and O(files[].template) is required.
        type: str
      src:
        description:
          - Handled by the action plugin. A file on the controller, looked up like the C(src) of
            M(ansible.builtin.copy) (the role's C(files/) directory, then the playbook's directory;
            vault-encrypted files are decrypted).
          - The file must be UTF-8 text; binary files are refused.
        type: path
      template:
        description:
          - Handled by the action plugin. A Jinja2 template on the controller, looked up like the
            C(src) of M(ansible.builtin.template) (the role's C(templates/) directory, then the
            playbook's directory) and rendered with the task's variables exactly as
            M(ansible.builtin.template) renders it with its default options (C(trim_blocks=true),
            C(lstrip_blocks=false), newline C(\n), trailing newline kept, C(ansible_managed) and the
            other template variables set).
        type: path
      mode:
        description:
          - The file's mode as a quoted octal string, for example C("0644") or C("0640").
        type: str
        required: true
      owner:
        description:
          - The owning user (name, or numeric ID when no user has that name).
        type: str
        default: root
      group:
        description:
          - The owning group (name, or numeric ID when no group has that name).
        type: str
        default: root
      validate:
        description:
          - A command that checks the new content before it is installed, with C(%s) where the
            path of the staged temporary file goes, for example C(/usr/sbin/visudo -cf %s).
          - The command is split like a shell would split it but is not run by a shell (no pipes,
            no redirection); C(%s) is replaced in every word.
          - Runs only when the content differs, and not in check mode (as with
            M(ansible.builtin.copy), the validating program may not be installed yet).
        type: str
  directories:
    description:
      - Directories to create when missing and whose owner, group and mode are corrected.
        Handled before O(files), in list order.
    type: list
    elements: dict
    suboptions:
      path:
        description:
          - Absolute path of the directory. Each path may appear only once.
        type: path
        required: true
      mode:
        description:
          - The directory's mode as a quoted octal string, for example C("0755").
        type: str
        required: true
      owner:
        description:
          - The owning user (name, or numeric ID when no user has that name).
        type: str
        default: root
      group:
        description:
          - The owning group (name, or numeric ID when no group has that name).
        type: str
        default: root
      only_if_missing:
        description:
          - Create the directory when it is missing, with O(directories[].owner),
            O(directories[].group) and O(directories[].mode), but leave an existing one as it is.
          - For a directory the caller does not own, such as the parent of a path an inventory
            chose (C(/root), say), whose mode must not change.
        type: bool
        default: false
  permissions:
    description:
      - Existing files whose owner, group and mode are corrected when they differ, without
        reading or writing their content (logs another program writes, a key another task made).
        Handled after O(files), in list order.
      - A missing path fails the task unless O(permissions[].create) is true; a path that is not
        a regular file (a symbolic link, a directory) fails it too.
    type: list
    elements: dict
    version_added: "0.4.0"
    suboptions:
      path:
        description:
          - Absolute path of the file. Each path may appear only once in the task.
        type: path
        required: true
      mode:
        description:
          - The file's mode as a quoted octal string, for example C("0640").
        type: str
        required: true
      owner:
        description:
          - The owning user (name, or numeric ID when no user has that name).
        type: str
        default: root
      group:
        description:
          - The owning group (name, or numeric ID when no group has that name).
        type: str
        default: root
      create:
        description:
          - Create the file empty when it is missing (like C(touch), times of an existing file
            untouched). A file another process creates meanwhile is kept as it is, never
            replaced, so a daemon that holds it open keeps writing to it.
        type: bool
        default: false
attributes:
  action:
    support: full
    description:
      - The action plugin reads O(files[].src) and renders O(files[].template) on the controller.
      - Then it reads the type, mode, owner, group and SHA-256 of every listed path with one
        command sent through the connection (POSIX shell, C(stat) and C(sha256sum) on the host).
        When every path is already as listed, the task returns what the module would return (all
        C(unchanged)) and nothing else runs.
      - Otherwise the module's code plans and applies the change. When the connection pipes
        modules (pipelining on), the action sends that code (C(module_utils/file_set.py)) with a
        short driver straight to the interpreter the module would run under, without AnsiballZ;
        ansible-core spends about 0.2 s of the host's CPU starting a module, which this skips.
        Without pipelining the module runs. Both give the same result and log the invocation,
        contents hidden, to the host's syslog.
  check_mode:
    support: full
    description:
      - Nothing is written. C(changed), RV(files), RV(directories) and RV(changed_paths) are the
        ones a real run would give.
      - An unknown owner or group is reported as a change (with a warning) instead of failing,
        because an earlier task that check mode did not run may create it. Validation is skipped.
  diff_mode:
    support: full
    description:
      - One diff per changed path, as a unified diff of the content (lines prefixed with C(+) and
        C(-)) followed by the owner, group and mode changes.
      - No content diff is shown for binary files or files larger than 256 KiB; the diff says so.
notes:
  - The task is C(changed) when any directory or file was (or in check mode would be) created,
    rewritten or had its owner, group or mode corrected; register the result and use
    RV(changed_paths) to react to single files.
  - Templates are rendered with the same calls M(ansible.builtin.template) makes; tested
    byte for byte against it with ansible-core 2.19 and 2.18 (2.16 and 2.17 use the 2.18 code
    path, untested).
  - File contents never appear in the result except in the diff of diff mode; the result's
    C(invocation) shows them as C(VALUE_SPECIFIED_IN_NO_LOG_PARAMETER), and the line logged on the
    managed host hides them. The usual no_log masking of the whole result is not applied to the
    contents, because it replaces every occurrence of a content in any string of the result (a
    one-line file's diff, or every C(e) when a content is C(e)).
  - Only UTF-8 text content is supported; use M(ansible.builtin.copy) for binary files.
seealso:
  - module: ansible.builtin.copy
  - module: ansible.builtin.template
  - module: ansible.builtin.file
"""

EXAMPLES = r"""
- name: Install the Postfix lookup tables and the milter configuration | TM-04
  stanford.trusted_mail.file_set:
    directories:
      - path: /etc/postfix/maps
        mode: "0755"
    files:
      - dest: /etc/postfix/maps/sender_access
        template: etc/postfix/maps/sender_access.j2
        mode: "0644"
      - dest: /etc/postfix/maps/sasl_passwd
        template: etc/postfix/maps/sasl_passwd.j2
        mode: "0600"
      - dest: /etc/clamav/clamav-milter.conf
        src: etc/clamav/clamav-milter.conf
        mode: "0644"
        owner: clamav
        group: adm
  register: postfix_files
  notify: Rebuild the Postfix maps and reload Postfix

- name: Install a sudoers drop-in and a unit override | MS-ACCESS
  stanford.trusted_mail.file_set:
    directories:
      - path: /etc/systemd/system/postfix@.service.d
        mode: "0755"
    files:
      - dest: /etc/sudoers.d/mail-admins
        content: "%mailadmins ALL=(root) /usr/sbin/postqueue\n"
        mode: "0440"
        validate: /usr/sbin/visudo -cf %s
      - dest: /etc/systemd/system/postfix@.service.d/restart.conf
        content: |
          [Service]
          Restart=on-failure
        mode: "0644"
  register: access_files

- name: Reload systemd only when a unit file changed | MS-ACCESS
  ansible.builtin.systemd_service:
    daemon_reload: true
  when: access_files.changed_paths | select('match', '/etc/systemd/') | list | length > 0
"""

RETURN = r"""
files:
  description:
    - One item per O(files) entry, in input order.
    - C(state) is C(created) (the file did not exist), C(updated) (its content changed),
      C(attributes) (only owner, group or mode changed) or C(unchanged).
  returned: always
  type: list
  elements: dict
  sample:
    - path: /etc/postfix/maps/sender_access
      state: created
    - path: /etc/clamav/clamav-milter.conf
      state: unchanged
directories:
  description:
    - One item per O(directories) entry, in input order, with C(state) C(created), C(attributes)
      or C(unchanged). Missing parent directories that were (or would be) created come right
      before the entry that needed them, with C(parent=true).
  returned: always
  type: list
  elements: dict
  sample:
    - path: /etc/postfix/maps
      state: created
permissions:
  description:
    - One item per O(permissions) entry, in input order, with C(state) C(created) (an empty file
      was made), C(attributes) or C(unchanged).
  returned: always
  type: list
  elements: dict
  version_added: "0.4.0"
  sample:
    - path: /var/log/mail.log
      state: attributes
changed_paths:
  description:
    - The paths (directories first, then files, then permissions, each in input order) that
      were, or in check mode would be, created, rewritten or corrected.
  returned: always
  type: list
  elements: str
  sample:
    - /etc/postfix/maps
    - /etc/postfix/maps/sender_access
diff:
  description: One prepared unified diff per changed path, when run with C(--diff).
  returned: when diff mode is enabled
  type: list
  elements: dict
  sample:
    - prepared: "--- /etc/postfix/maps/sender_access (absent)\n+++ /etc/postfix/maps/sender_access (after)\n@@ -0,0 +1 @@\n+a@b REJECT\n"
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible.module_utils.common.text.converters import to_native  # noqa: E402

# The work itself (plan, diff, apply) is in module_utils, shared with the action plugin's
# direct run; the names are imported here too for the unit tests.
from ansible_collections.stanford.trusted_mail.plugins.module_utils.file_set import (  # noqa: E402,F401
    DIFF_MAX_BYTES,
    HIDDEN,
    FileSetError,
    build_diffs,
    content_diff,
    execute,
    hidden_files,
    parse_mode,
    plan,
    resolve_group,
    resolve_user,
    split_validate,
)


# ---------------------------------------------------------------------------
# Module entry point
# ---------------------------------------------------------------------------

def _hidden_invocation(params):
    args = dict(params)
    if args.get('files'):
        args['files'] = hidden_files(args['files'])
    return {'module_args': args}


class FileSetModule(AnsibleModule):
    """AnsibleModule that logs its invocation with every file content hidden.

    AnsibleModule hides a no_log suboption by its value, but logs a list parameter as its
    ``str()``, where a multi-line content appears with escaped line breaks that no longer match
    the hidden value. So the contents are replaced before the invocation is logged.
    """

    def _log_invocation(self):
        files = self.params.get('files')
        if not files:
            return super(FileSetModule, self)._log_invocation()
        self.params['files'] = hidden_files(files)
        try:
            return super(FileSetModule, self)._log_invocation()
        finally:
            self.params['files'] = files


def run_module(module):
    params = module.params
    invocation = _hidden_invocation(params)
    # FileSetModule logged its parameters with the contents hidden when it started. Hiding them
    # in the result too would mask every occurrence of a content in any string of the result
    # (the diffs, even paths when a content is short), so the result carries its own invocation
    # with the contents hidden and never contains a content except in the requested diff.
    for entry in params['files'] or []:
        if entry.get('content'):
            module.no_log_values.discard(to_native(entry['content']))
    result, warnings, error = execute(params, module.check_mode, module._diff, run=module.run_command)
    result['invocation'] = invocation
    for warning in warnings:
        module.warn(warning)
    if error is not None:
        module.fail_json(msg=error, **result)
    module.exit_json(**result)


def main():
    file_spec = dict(
        dest=dict(type='path', required=True),
        content=dict(type='str', no_log=True),
        mode=dict(type='str', required=True),
        owner=dict(type='str', default='root'),
        group=dict(type='str', default='root'),
        validate=dict(type='str'),
        src=dict(type='path'),
        template=dict(type='path'),
    )
    permission_spec = dict(
        path=dict(type='path', required=True),
        mode=dict(type='str', required=True),
        owner=dict(type='str', default='root'),
        group=dict(type='str', default='root'),
        create=dict(type='bool', default=False),
    )
    dir_spec = dict(
        path=dict(type='path', required=True),
        mode=dict(type='str', required=True),
        owner=dict(type='str', default='root'),
        group=dict(type='str', default='root'),
        only_if_missing=dict(type='bool', default=False),
    )
    module = FileSetModule(
        argument_spec=dict(
            files=dict(type='list', elements='dict', options=file_spec,
                       mutually_exclusive=[('content', 'src', 'template')]),
            directories=dict(type='list', elements='dict', options=dir_spec),
            permissions=dict(type='list', elements='dict', options=permission_spec),
        ),
        required_one_of=[('files', 'directories', 'permissions')],
        supports_check_mode=True,
    )
    run_module(module)


if __name__ == '__main__':
    main()
