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
      - The files to install. Required unless O(directories) is given.
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
attributes:
  action:
    support: full
    description:
      - The action plugin reads O(files[].src) and renders O(files[].template) on the controller
        and then runs the module once, without a remote temporary directory when pipelining is on.
      - Before that, it reads the type, mode, owner, group and SHA-256 of every listed path with
        one command sent through the connection (POSIX shell, C(stat) and C(sha256sum) on the
        host). When every directory and file is already as listed, the task returns what the
        module would return (all C(unchanged)) without running the module.
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
changed_paths:
  description:
    - The paths (directories first, then files, each in input order) that were, or in check mode
      would be, created, rewritten or corrected.
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

import difflib  # noqa: E402
import grp  # noqa: E402
import os  # noqa: E402
import pwd  # noqa: E402
import re  # noqa: E402
import shlex  # noqa: E402
import stat  # noqa: E402
import tempfile  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text  # noqa: E402

MODE_RE = re.compile(r'^[0-7]{3,4}$')
DIFF_MAX_BYTES = 256 * 1024
PARENT_MODE = 0o755
HIDDEN = 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'


class FileSetError(Exception):
    """Invalid input or a state the module refuses to change."""


# ---------------------------------------------------------------------------
# Pure helpers (unit-tested without a module)
# ---------------------------------------------------------------------------

def parse_mode(value, what):
    if not isinstance(value, str) or not MODE_RE.match(value):
        raise FileSetError('%s: mode must be an octal string such as "0644", got %r' % (what, value))
    return int(value, 8)


def check_path(path, what):
    if not isinstance(path, str) or not os.path.isabs(path):
        raise FileSetError('%s: path must be absolute, got %r' % (what, path))
    norm = os.path.normpath(path)
    if norm == '/':
        raise FileSetError('%s: "/" cannot be managed' % what)
    return norm


def resolve_user(name):
    """Return the uid of NAME (a user name, or a number when no user has that name) or None."""
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        return int(name) if name.isdigit() else None


def resolve_group(name):
    """Return the gid of NAME (a group name, or a number when no group has that name) or None."""
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        return int(name) if name.isdigit() else None


def _user_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group_name(gid):
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def attribute_changes(st, uid, gid, mode, owner, group):
    """Describe the owner/group/mode differences of an existing path as text lines.

    UID/GID are None when the name could not be resolved (check mode): that is always a change.
    """
    lines = []
    if uid is None:
        lines.append('owner: %s -> %s (user not found on the host; an earlier task may create it)' % (_user_name(st.st_uid), owner))
    elif st.st_uid != uid:
        lines.append('owner: %s -> %s' % (_user_name(st.st_uid), owner))
    if gid is None:
        lines.append('group: %s -> %s (group not found on the host; an earlier task may create it)' % (_group_name(st.st_gid), group))
    elif st.st_gid != gid:
        lines.append('group: %s -> %s' % (_group_name(st.st_gid), group))
    current = stat.S_IMODE(st.st_mode)
    if current != mode:
        lines.append('mode: %04o -> %04o' % (current, mode))
    return lines


def _is_text(data):
    if b'\x00' in data:
        return False
    try:
        data.decode('utf-8')
    except UnicodeDecodeError:
        return False
    return True


def content_diff(path, before, after):
    """Unified diff text of BEFORE (bytes or None when absent) and AFTER (bytes) for PATH."""
    if before is not None and (len(before) > DIFF_MAX_BYTES or not _is_text(before)) \
            or len(after) > DIFF_MAX_BYTES or not _is_text(after):
        return '%s: content changed (diff skipped: binary content or larger than %d bytes)\n' % (path, DIFF_MAX_BYTES)
    before_lines = [] if before is None else before.decode('utf-8').splitlines(True)
    after_lines = after.decode('utf-8').splitlines(True)
    for lines in (before_lines, after_lines):
        if lines and not lines[-1].endswith('\n'):
            lines[-1] += '\n\\ No newline at end of file\n'
    fromfile = '%s (%s)' % (path, 'absent' if before is None else 'before')
    return ''.join(difflib.unified_diff(before_lines, after_lines, fromfile=fromfile,
                                        tofile='%s (after)' % path, lineterm='\n'))


def split_validate(command, path):
    """Split a validate command and put PATH where %s is."""
    if '%s' not in command:
        raise FileSetError('validate must contain %%s (the staged file), got %r' % command)
    return [word.replace('%s', path) for word in shlex.split(command)]


# ---------------------------------------------------------------------------
# Planning: compare the host with the desired state, change nothing
# ---------------------------------------------------------------------------

def _lstat(path):
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def _missing_parents(path, known_dirs):
    """Directories above PATH that do not exist and are not created by an earlier entry, top first."""
    missing = []
    parent = os.path.dirname(path)
    while parent != '/' and parent not in known_dirs and not os.path.isdir(parent):
        if os.path.lexists(parent):
            raise FileSetError('%s: %s exists but is not a directory' % (path, parent))
        missing.insert(0, parent)
        parent = os.path.dirname(parent)
    return missing


def plan(files, directories, check_mode):
    """Return (dir_plan, file_plan, warnings) without touching the host.

    Raises FileSetError for invalid input, unknown owners outside check mode, destinations that
    are directories and destination directories that will not exist.
    """
    warnings = []
    seen = set()
    for entry in directories:
        path = check_path(entry['path'], 'directories')
        if path in seen:
            raise FileSetError('directories: %s: listed more than once' % path)
        seen.add(path)
    for entry in files:
        path = check_path(entry['dest'], 'files')
        if path in seen:
            raise FileSetError('files: %s: listed more than once' % path)
        seen.add(path)
    unknown = []
    created_dirs = set()
    dir_plan = []

    def resolve(entry, what):
        uid, gid = resolve_user(entry['owner']), resolve_group(entry['group'])
        for value, kind, name in ((uid, 'user', entry['owner']), (gid, 'group', entry['group'])):
            if value is None:
                unknown.append('%s: %s %r not found' % (what, kind, name))
        return uid, gid

    for entry in directories:
        path = check_path(entry['path'], 'directories')
        what = 'directories: %s' % path
        mode = parse_mode(entry['mode'], what)
        uid, gid = resolve(entry, what)
        st = _lstat(path)
        item = {'path': path, 'uid': uid, 'gid': gid, 'mode': mode, 'owner': entry['owner'], 'group': entry['group']}
        if st is None:
            for parent in _missing_parents(path, created_dirs):
                dir_plan.append({'path': parent, 'state': 'created', 'parent': True, 'lines': ['parent directory created, mode 0755']})
                created_dirs.add(parent)
            item['state'] = 'created'
            item['lines'] = ['directory created, owner %s, group %s, mode %04o' % (entry['owner'], entry['group'], mode)]
            created_dirs.add(path)
        elif not stat.S_ISDIR(st.st_mode):
            raise FileSetError('%s: exists and is not a directory' % what)
        elif entry.get('only_if_missing'):
            item['lines'] = []
            item['state'] = 'unchanged'
        else:
            item['lines'] = attribute_changes(st, uid, gid, mode, entry['owner'], entry['group'])
            item['state'] = 'attributes' if item['lines'] else 'unchanged'
        dir_plan.append(item)

    file_plan = []
    for entry in files:
        path = check_path(entry['dest'], 'files')
        what = 'files: %s' % path
        if entry.get('src') is not None or entry.get('template') is not None:
            raise FileSetError('%s: src and template are read by the action plugin; the module needs content' % what)
        if entry.get('content') is None:
            raise FileSetError('%s: content is required' % what)
        mode = parse_mode(entry['mode'], what)
        if entry.get('validate') is not None:
            split_validate(entry['validate'], path)
        uid, gid = resolve(entry, what)
        data = to_bytes(entry['content'], errors='surrogate_or_strict')
        item = {'path': path, 'uid': uid, 'gid': gid, 'mode': mode, 'owner': entry['owner'], 'group': entry['group'],
                'data': data, 'validate': entry.get('validate'), 'before': None}
        directory = os.path.dirname(path)
        st = _lstat(path)
        if st is not None and stat.S_ISDIR(st.st_mode):
            raise FileSetError('%s: exists and is a directory' % what)
        if st is None or stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
            if st is None and directory not in created_dirs and not os.path.isdir(directory):
                if not check_mode:
                    raise FileSetError('%s: directory %s does not exist (list it in directories)' % (what, directory))
                warnings.append('%s: directory %s does not exist; check mode assumes an earlier task creates it' % (what, directory))
            item['state'] = 'created' if st is None else 'updated'
            item['lines'] = [] if st is None else ['%s replaced by a regular file' % ('symbolic link' if stat.S_ISLNK(st.st_mode) else 'special file')]
        else:
            with open(path, 'rb') as handle:
                before = handle.read()
            item['before'] = before
            lines = attribute_changes(st, uid, gid, mode, entry['owner'], entry['group'])
            if before != data:
                item['state'] = 'updated'
            else:
                item['state'] = 'attributes' if lines else 'unchanged'
            item['lines'] = lines
        file_plan.append(item)

    if unknown:
        if not check_mode:
            raise FileSetError('unknown owner or group, nothing changed: %s' % '; '.join(unknown))
        warnings.append('check mode: %s; reported as a change, an earlier task may create it' % '; '.join(unknown))
        for item in dir_plan + file_plan:
            if item['state'] == 'unchanged' and (item['uid'] is None or item['gid'] is None):
                item['state'] = 'attributes'
    return dir_plan, file_plan, warnings


def build_diffs(dir_plan, file_plan):
    diffs = []
    for item in dir_plan:
        if item['state'] != 'unchanged':
            diffs.append({'prepared': '%s/ (directory): %s\n' % (item['path'], '; '.join(item['lines']))})
    for item in file_plan:
        if item['state'] == 'unchanged':
            continue
        text = ''
        if item['state'] in ('created', 'updated'):
            text = content_diff(item['path'], item['before'], item['data'])
        if item['state'] == 'created':
            item_lines = ['file created, owner %s, group %s, mode %04o' % (item['owner'], item['group'], item['mode'])]
        else:
            item_lines = item['lines']
        if item_lines:
            text += ''.join('%s: %s\n' % (item['path'], line) for line in item_lines)
        diffs.append({'prepared': text})
    return diffs


# ---------------------------------------------------------------------------
# Applying the plan
# ---------------------------------------------------------------------------

def _set_attributes(path, uid, gid, mode):
    os.lchown(path, uid, gid)
    os.chmod(path, mode)


def apply_directories(dir_plan):
    for item in dir_plan:
        if item['state'] == 'unchanged':
            continue
        if item.get('parent'):
            os.mkdir(item['path'], PARENT_MODE)
            os.chmod(item['path'], PARENT_MODE)
            if os.geteuid() == 0:
                os.chown(item['path'], 0, 0)
            continue
        if item['state'] == 'created':
            os.mkdir(item['path'], 0o700)
        _set_attributes(item['path'], item['uid'], item['gid'], item['mode'])


def stage_and_validate(module, file_plan):
    """Stage changed contents next to their destinations and validate them.

    Returns the list of (item, temp path). On any validation failure every staged file is removed
    and FileSetError is raised.
    """
    staged, failures = [], []
    try:
        for item in file_plan:
            if item['state'] not in ('created', 'updated'):
                continue
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(item['path']), prefix='.%s.' % os.path.basename(item['path']), suffix='.file_set')
            staged.append((item, tmp))
            with os.fdopen(fd, 'wb') as handle:
                handle.write(item['data'])
                handle.flush()
                os.fsync(handle.fileno())
            _set_attributes(tmp, item['uid'], item['gid'], item['mode'])
            if item['validate']:
                cmd = split_validate(item['validate'], tmp)
                rc, out, err = module.run_command(cmd)
                if rc != 0:
                    failures.append('%s: validate %r failed (exit code %d); stdout: %s; stderr: %s'
                                    % (item['path'], item['validate'], rc, out.strip(), err.strip()))
    except BaseException:
        _remove(staged)
        raise
    if failures:
        _remove(staged)
        raise FileSetError('validation failed, no file changed: ' + ' | '.join(failures))
    return staged


def _remove(staged):
    for dummy, tmp in staged:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


def apply_files(module, file_plan):
    staged = stage_and_validate(module, file_plan)
    try:
        for item, tmp in staged:
            os.rename(tmp, item['path'])
    except BaseException:
        _remove(staged)
        raise
    for item in file_plan:
        if item['state'] == 'attributes':
            _set_attributes(item['path'], item['uid'], item['gid'], item['mode'])


# ---------------------------------------------------------------------------
# Module entry point
# ---------------------------------------------------------------------------

def _hidden_invocation(params):
    args = dict(params)
    if args.get('files'):
        args['files'] = _hidden_files(args['files'])
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
        self.params['files'] = _hidden_files(files)
        try:
            return super(FileSetModule, self)._log_invocation()
        finally:
            self.params['files'] = files


def _hidden_files(files):
    return [dict(entry, content=HIDDEN if entry.get('content') is not None else None) for entry in files]


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
    result = {'changed': False, 'files': [], 'directories': [], 'changed_paths': [], 'invocation': invocation}

    try:
        dir_plan, file_plan, warnings = plan(params['files'] or [], params['directories'] or [], module.check_mode)
    except FileSetError as exc:
        module.fail_json(msg=str(exc), **result)
    for warning in warnings:
        module.warn(warning)

    result['directories'] = [dict({'path': i['path'], 'state': i['state']}, **({'parent': True} if i.get('parent') else {}))
                             for i in dir_plan]
    result['files'] = [{'path': i['path'], 'state': i['state']} for i in file_plan]
    result['changed_paths'] = [i['path'] for i in dir_plan + file_plan if i['state'] != 'unchanged']
    result['changed'] = bool(result['changed_paths'])
    if module._diff:
        result['diff'] = build_diffs(dir_plan, file_plan)

    if result['changed'] and not module.check_mode:
        try:
            apply_directories(dir_plan)
            apply_files(module, file_plan)
        except FileSetError as exc:
            result['changed'] = any(i['state'] != 'unchanged' for i in dir_plan)
            result.pop('diff', None)
            module.fail_json(msg=str(exc), **result)
        except OSError as exc:
            result.pop('diff', None)
            module.fail_json(msg='file_set failed: %s' % to_text(exc), **result)

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
        ),
        required_one_of=[('files', 'directories')],
        supports_check_mode=True,
    )
    run_module(module)


if __name__ == '__main__':
    main()
