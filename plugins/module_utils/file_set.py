# -*- coding: utf-8 -*-
# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What stanford.trusted_mail.file_set does on the managed host: plan, diff and apply.

Plain Python 3 standard library, no Ansible imports: the module imports it (AnsiballZ ships
it), and the action plugin sends this file's source with a short driver straight to the
host's Python when the connection pipes modules, which spares ansible-core's module start
(about 0.2 s of the host's CPU). Both paths run this same code.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import grp
import os
import pwd
import re
import shlex
import stat
import subprocess
import tempfile

MODE_RE = re.compile(r'^[0-7]{3,4}$')
DIFF_MAX_BYTES = 256 * 1024
PARENT_MODE = 0o755
HIDDEN = 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'


class FileSetError(Exception):
    """Invalid input or a state the module refuses to change."""


# ---------------------------------------------------------------------------
# Pure helpers
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


def plan(files, directories, check_mode, permissions=()):
    """Return (dir_plan, file_plan, warnings) without touching the host.

    FILE_PLAN holds the items of FILES, then those of PERMISSIONS (marked ``existing``: their
    content is never read or written). Raises FileSetError for invalid input, unknown owners
    outside check mode, destinations that are directories, destination directories that will
    not exist, and PERMISSIONS paths that are missing (unless ``create``) or not regular files.
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
    for entry in permissions:
        path = check_path(entry['path'], 'permissions')
        if path in seen:
            raise FileSetError('permissions: %s: listed more than once' % path)
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
        data = entry['content'].encode('utf-8', 'surrogateescape')
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

    for entry in permissions:
        path = check_path(entry['path'], 'permissions')
        what = 'permissions: %s' % path
        mode = parse_mode(entry['mode'], what)
        uid, gid = resolve(entry, what)
        item = {'path': path, 'uid': uid, 'gid': gid, 'mode': mode, 'owner': entry['owner'], 'group': entry['group'],
                'existing': True, 'data': None, 'validate': None, 'before': None}
        st = _lstat(path)
        if st is None:
            if not entry.get('create'):
                raise FileSetError('%s: does not exist (permissions apply to existing files; set create to make an empty one)' % what)
            directory = os.path.dirname(path)
            if directory not in created_dirs and not os.path.isdir(directory):
                if not check_mode:
                    raise FileSetError('%s: directory %s does not exist (list it in directories)' % (what, directory))
                warnings.append('%s: directory %s does not exist; check mode assumes an earlier task creates it' % (what, directory))
            item['state'] = 'created'
            item['lines'] = ['empty file created, owner %s, group %s, mode %04o' % (entry['owner'], entry['group'], mode)]
        elif stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
            raise FileSetError('%s: exists and is not a regular file' % what)
        else:
            item['lines'] = attribute_changes(st, uid, gid, mode, entry['owner'], entry['group'])
            item['state'] = 'attributes' if item['lines'] else 'unchanged'
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
        if item['state'] in ('created', 'updated') and not item.get('existing'):
            text = content_diff(item['path'], item['before'], item['data'])
        if item['state'] == 'created' and not item.get('existing'):
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


def stage_and_validate(run_command, file_plan):
    """Stage changed contents next to their destinations and validate them.

    Returns the list of (item, temp path). On any validation failure every staged file is removed
    and FileSetError is raised.
    """
    staged, failures = [], []
    try:
        for item in file_plan:
            if item['state'] not in ('created', 'updated') or item.get('existing'):
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
                rc, out, err = run_command(cmd)
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


def apply_files(run_command, file_plan):
    staged = stage_and_validate(run_command, file_plan)
    try:
        for item, tmp in staged:
            os.rename(tmp, item['path'])
    except BaseException:
        _remove(staged)
        raise
    for item in file_plan:
        if item['state'] == 'attributes':
            _set_attributes(item['path'], item['uid'], item['gid'], item['mode'])
        elif item['state'] == 'created' and item.get('existing'):
            _touch(item)


def _touch(item):
    """Create ITEM's file empty, or leave its content alone when another process made it meanwhile
    (a daemon may hold it open: it is never replaced), then set its owner, group and mode."""
    fd = os.open(item['path'], os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK, 0o600)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise FileSetError('permissions: %s: exists and is not a regular file' % item['path'])
        os.fchown(fd, item['uid'], item['gid'])
        os.fchmod(fd, item['mode'])
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------
# One whole run: what the module and the action's direct run both call
# ---------------------------------------------------------------------------

def run_command(argv):
    """Run ARGV without a shell; return (rc, stdout, stderr) as text."""
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    return done.returncode, done.stdout.decode('utf-8', 'replace'), done.stderr.decode('utf-8', 'replace')


def hidden_files(files):
    """FILES with every content replaced by HIDDEN (for invocations and logs)."""
    return [dict(entry, content=HIDDEN if entry.get('content') is not None else None) for entry in files]


def execute(params, check_mode, diff, run=run_command):
    """Plan and, unless CHECK_MODE, apply PARAMS (files, directories, permissions, as the module takes them).

    Returns (result, warnings, error): the result without invocation, the warnings, and the
    failure message (None when it succeeded).
    """
    result = {'changed': False, 'files': [], 'directories': [], 'permissions': [], 'changed_paths': []}
    try:
        dir_plan, file_plan, warnings = plan(params.get('files') or [], params.get('directories') or [], check_mode,
                                             params.get('permissions') or [])
    except FileSetError as exc:
        return result, [], str(exc)
    result['directories'] = [dict({'path': i['path'], 'state': i['state']}, **({'parent': True} if i.get('parent') else {}))
                             for i in dir_plan]
    result['files'] = [{'path': i['path'], 'state': i['state']} for i in file_plan if not i.get('existing')]
    result['permissions'] = [{'path': i['path'], 'state': i['state']} for i in file_plan if i.get('existing')]
    result['changed_paths'] = [i['path'] for i in dir_plan + file_plan if i['state'] != 'unchanged']
    result['changed'] = bool(result['changed_paths'])
    if diff:
        result['diff'] = build_diffs(dir_plan, file_plan)
    if result['changed'] and not check_mode:
        try:
            apply_directories(dir_plan)
            apply_files(run, file_plan)
        except FileSetError as exc:
            result['changed'] = any(i['state'] != 'unchanged' for i in dir_plan)
            result.pop('diff', None)
            return result, warnings, str(exc)
        except OSError as exc:
            result.pop('diff', None)
            return result, warnings, 'file_set failed: %s' % exc
    return result, warnings, None
