# -*- coding: utf-8 -*-

# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of stanford.trusted_mail.file_set (the module file holds the documentation).

Reads ``src`` files and renders ``template`` templates on the controller, turns every file into
``content`` and runs the module once. No remote temporary directory is created (with pipelining
on, none is needed at all).

Before that, one command sent through the connection reads the type, mode, owner, group and
SHA-256 of every listed path. When every directory and file is already as listed, the result
is the one the module would return for that case, and the module is not run (a module run
costs about 0.2 s of the host's CPU before it starts).

Anything else, including anything this read cannot decide, is planned and applied by the code
the module runs (module_utils/file_set.py). When the connection pipes modules, that file's source
and a short driver go straight to the interpreter the module would run under (found the way
ansible-core finds it, discovery included), without AnsiballZ and the import of
ansible.module_utils.basic; otherwise the module runs. Either way the same code changes the
host, and the result is the same.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import re

from jinja2.defaults import (
    BLOCK_END_STRING,
    BLOCK_START_STRING,
    COMMENT_END_STRING,
    COMMENT_START_STRING,
    VARIABLE_END_STRING,
    VARIABLE_START_STRING,
)

from ansible import constants as C
from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.executor.interpreter_discovery import InterpreterDiscoveryRequiredError, discover_interpreter
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.action import ActionBase

from ansible_collections.stanford.trusted_mail.plugins.module_utils import file_set as file_set_core
from ansible_collections.stanford.trusted_mail.plugins.plugin_utils.host_command import READ_ENV, run_argv

try:  # the interpreter a module would get, without building the module (ansible-core 2.16 - 2.19)
    from ansible.executor.module_common import _get_shebang
except ImportError:  # pragma: no cover - a later ansible-core: the module is built to learn it
    _get_shebang = None

try:  # ansible-core >= 2.19, the same calls ansible.builtin.template makes
    from ansible.template import trust_as_template
    from ansible._internal._templating import _template_vars
    HAS_DATA_TAGGING = True
except ImportError:  # ansible-core 2.16 - 2.18 (not tested)
    from ansible.template import AnsibleEnvironment, generate_ansible_template_vars
    HAS_DATA_TAGGING = False

MODULE = 'stanford.trusted_mail.file_set'
SOURCES = ('content', 'src', 'template')
FILE_KEYS = frozenset(('dest', 'mode', 'owner', 'group', 'validate') + SOURCES)
DIR_KEYS = frozenset(('path', 'mode', 'owner', 'group', 'only_if_missing'))
PERMISSION_KEYS = frozenset(('path', 'mode', 'owner', 'group', 'create'))
MODE_RE = re.compile(r'^[0-7]{3,4}$')
# The module's defaults (its argument spec), for the direct run.
FILE_DEFAULTS = {'owner': 'root', 'group': 'root', 'validate': None}
DIR_DEFAULTS = {'owner': 'root', 'group': 'root', 'only_if_missing': False}
PERMISSION_DEFAULTS = {'owner': 'root', 'group': 'root', 'create': False}
# One line per path: type|mode|uid|gid|user|group|sha256 (- for anything but a regular file),
# or "missing". stat does not follow a symbolic link, so one is never taken for its target.
READ_STATE = (
    'for p do if [ -e "$p" ] || [ -h "$p" ]; then s=$(stat -c "%F|%a|%u|%g|%U|%G" -- "$p") || exit 1; h=-; '
    'if [ -f "$p" ] && [ ! -h "$p" ]; then h=$(sha256sum -- "$p") || exit 1; h=${h%% *}; fi; '
    'printf "%s|%s\\n" "$s" "$h"; else echo missing; fi; done'
)


# Appended to module_utils/file_set.py's source for the direct run: the arguments come in the
# script itself (JSON in a string literal), the result goes out as JSON on stdout. Like the
# module, it logs its invocation, contents hidden, to the host's syslog unless told not to.
DRIVER = """

def _tm_file_set_direct():
    import json as _json
    import sys as _sys
    args = _json.loads(%r)
    params = args['params']
    # As the module's "path" type does.
    for _entry in params.get('files') or []:
        _entry['dest'] = os.path.expanduser(os.path.expandvars(_entry['dest']))
    for _entry in (params.get('directories') or []) + (params.get('permissions') or []):
        _entry['path'] = os.path.expanduser(os.path.expandvars(_entry['path']))
    shown = dict(params, files=hidden_files(params.get('files') or []) or None)
    if args['log']:
        try:
            import syslog as _syslog
            _syslog.openlog('ansible-stanford.trusted_mail.file_set', 0, _syslog.LOG_USER)
            _syslog.syslog(_syslog.LOG_INFO, 'Invoked with %%s' %% (_json.dumps(shown, sort_keys=True) if not args['no_log'] else 'no_log'))
        except Exception:
            pass
    result, warnings, error = execute(params, args['check_mode'], args['diff'])
    result['invocation'] = {'module_args': shown}
    if warnings:
        result['warnings'] = warnings
    if error is not None:
        result.update(failed=True, msg=error)
    _sys.stdout.write('\\n' + _json.dumps(result) + '\\n')


_tm_file_set_direct()
"""
_CORE_SOURCE = []


def _core_source():
    """module_utils/file_set.py's source, read once per worker."""
    if not _CORE_SOURCE:
        with open(file_set_core.__file__.replace('.pyc', '.py'), 'r', encoding='utf-8') as handle:
            _CORE_SOURCE.append(handle.read())
    return _CORE_SOURCE[0]


def _direct_params(module_args):
    """MODULE_ARGS with the module's defaults and type conversions, or None when a value is not
    plainly of its type (the module then runs and gives its own error)."""
    params = {'files': None, 'directories': None, 'permissions': None}
    specs = (('files', FILE_DEFAULTS), ('directories', DIR_DEFAULTS), ('permissions', PERMISSION_DEFAULTS))
    for key, defaults in specs:
        if module_args.get(key) is None:
            continue
        entries = []
        for entry in module_args[key]:
            new = dict(defaults)
            new.update(entry)
            for name in ('owner', 'group'):
                if isinstance(new[name], int) and not isinstance(new[name], bool):
                    new[name] = str(new[name])
            texts = ('dest', 'mode', 'owner', 'group', 'content') if key == 'files' else ('path', 'mode', 'owner', 'group')
            if not all(isinstance(new[name], str) for name in texts):
                return None
            if key == 'files' and new['validate'] is not None and not isinstance(new['validate'], str):
                return None
            if key == 'directories' and not isinstance(new['only_if_missing'], bool):
                return None
            if key == 'permissions' and not isinstance(new['create'], bool):
                return None
            entries.append(new)
        params[key] = entries
    return params


def _owned(entry, uid, user, key):
    """Whether the owner (or group) KEY of ENTRY is the one read: by name, or by numeric ID."""
    wanted = entry.get(key, 'root')
    return wanted == user or (wanted.isdigit() and wanted == uid)


def _matches(entry, line, kind_wanted):
    """Whether the state LINE read for ENTRY (a "directory", "file" or "permissions" entry) is what
    the module would leave unchanged."""
    fields = line.split('|')
    if len(fields) != 7:
        return False
    kind, mode, uid, gid, user, group, digest = fields
    if kind_wanted == 'directory':
        if kind != 'directory':
            return False
        if entry.get('only_if_missing'):
            return True
    elif kind not in ('regular file', 'regular empty file'):
        return False
    elif kind_wanted == 'file' and digest != hashlib.sha256(entry['content'].encode('utf-8')).hexdigest():
        return False
    return int(mode, 8) == int(entry['mode'], 8) and _owned(entry, uid, user, 'owner') and _owned(entry, gid, group, 'group')


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('files', 'directories', 'permissions'))

    def run(self, tmp=None, task_vars=None):
        if task_vars is None:
            task_vars = {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        try:
            module_args = self._module_args(task_vars)
            if self._unchanged(module_args):
                directories = module_args.get('directories') or []
                files = module_args.get('files') or []
                permissions = module_args.get('permissions') or []
                result.update(changed=False, changed_paths=[],
                              directories=[{'path': entry['path'], 'state': 'unchanged'} for entry in directories],
                              files=[{'path': entry['dest'], 'state': 'unchanged'} for entry in files],
                              permissions=[{'path': entry['path'], 'state': 'unchanged'} for entry in permissions])
                if self._task.diff:
                    result['diff'] = []
                return result
            params = _direct_params(module_args)
            # An async task keeps the module, which ansible-core wraps for it.
            if params is not None and not self._task.async_val and self._connection.is_pipelining_enabled():
                result.update(self._run_direct(params, task_vars))
            else:
                result.update(self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars))
            return result
        finally:
            # Only there when pipelining is off: then _execute_module needed one for the module.
            self._remove_tmp_path(self._connection._shell.tmpdir)

    # -- the read that can spare the module run ----------------------------------

    def _unchanged(self, module_args):
        """Whether every listed directory and file is already as listed (then the module would change nothing)."""
        directories = module_args.get('directories') or []
        files = module_args.get('files') or []
        permissions = module_args.get('permissions') or []
        entries = ([(entry, entry['path'], 'directory') for entry in directories]
                   + [(entry, entry['dest'], 'file') for entry in files]
                   + [(entry, entry['path'], 'permissions') for entry in permissions])
        paths = [path for _, path, _ in entries]
        if not entries or len(set(paths)) != len(paths):
            return False
        for entry, path, _ in entries:
            if '\n' in path or not MODE_RE.match(entry['mode']) or \
                    not all(isinstance(entry.get(key, 'root'), str) for key in ('owner', 'group')):
                return False
        done = run_argv(self, ['sh', '-c', READ_STATE, 'sh'] + paths, environment=READ_ENV)
        lines = done['stdout'].split('\n') if done['stdout'] else []
        if done['rc'] != 0 or len(lines) != len(entries):
            return False
        return all(_matches(entry, line, kind) for (entry, _, kind), line in zip(entries, lines))

    # -- the direct run ------------------------------------------------------

    def _run_direct(self, module_args, task_vars):
        """Plan and apply MODULE_ARGS with the module's code, sent straight to the host's Python."""
        shebang = self._shebang(module_args, task_vars)
        if not shebang:
            return self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars)
        args = {
            'params': module_args,
            'check_mode': bool(self._task.check_mode),
            'diff': bool(self._task.diff),
            'no_log': bool(self._task.no_log),
            'log': not C.config.get_config_value('DEFAULT_NO_TARGET_SYSLOG', variables=task_vars),
        }
        script = _core_source() + DRIVER % json.dumps(args, sort_keys=True)
        command = self._connection._shell.build_module_command(self._compute_environment_string(), shebang, '').strip()
        done = self._low_level_execute_command(command, sudoable=True, in_data=script.encode('utf-8'))
        result = None
        lines = [line for line in done['stdout'].splitlines() if line.startswith('{')]
        if done['rc'] == 0 and lines:
            try:
                result = json.loads(lines[-1])
            except ValueError:
                result = None
        if not isinstance(result, dict):
            raise AnsibleActionFail('file_set: the run on the host failed (exit code %d): %s'
                                    % (done['rc'], (done['stderr'] or done['stdout']).strip()[-2000:]))
        if self._discovered_interpreter_key:
            result.setdefault('ansible_facts', {})[self._discovered_interpreter_key] = self._discovered_interpreter
        return result

    def _shebang(self, module_args, task_vars):
        """The interpreter line the module would run under: the host's ansible_python_interpreter,
        or the one interpreter discovery finds (and reports back as a fact), as for a module.

        Asked of ansible-core's own lookup rather than by building the module, which costs about
        0.15 s of the controller's CPU (AnsiballZ collects and compiles every module_utils file).
        """
        use_vars = task_vars.get('ansible_delegated_vars', {}).get(self._task.delegate_to, task_vars) \
            if self._task.delegate_to else task_vars
        if _get_shebang is None:
            built, dummy = self._configure_module(MODULE, dict(module_args), task_vars)
            return built.shebang
        remote_is_local = bool(getattr(self._connection, '_remote_is_local', False))
        for dummy in (1, 2):
            try:
                return _get_shebang('/usr/bin/python', use_vars, self._templar, remote_is_local=remote_is_local)[0]
            except InterpreterDiscoveryRequiredError as idre:
                found = discover_interpreter(action=self, interpreter_name=idre.interpreter_name,
                                             discovery_mode=idre.discovery_mode, task_vars=use_vars)
                key = 'discovered_interpreter_%s' % idre.interpreter_name
                use_vars.setdefault('ansible_facts', {})[key] = found
                if not self._task.delegate_to or self._task.delegate_facts:
                    self._discovered_interpreter = found
                    self._discovered_interpreter_key = key
        return None

    # -- argument handling -------------------------------------------------

    def _module_args(self, task_vars):
        args = self._task.args
        files = args.get('files')
        directories = args.get('directories')
        permissions = args.get('permissions')
        if files is None and directories is None and permissions is None:
            raise AnsibleActionFail('file_set: give files, directories, permissions or several of them')
        module_args = {}
        if directories is not None:
            if not isinstance(directories, list):
                raise AnsibleActionFail('file_set: directories must be a list of dicts')
            module_args['directories'] = [self._directory(entry, index) for index, entry in enumerate(directories)]
        if files is not None:
            if not isinstance(files, list):
                raise AnsibleActionFail('file_set: files must be a list of dicts')
            module_args['files'] = [self._file(entry, index, task_vars) for index, entry in enumerate(files)]
        if permissions is not None:
            if not isinstance(permissions, list):
                raise AnsibleActionFail('file_set: permissions must be a list of dicts')
            module_args['permissions'] = [self._permission(entry, index) for index, entry in enumerate(permissions)]
        return module_args

    @staticmethod
    def _check_entry(entry, index, kind, keys, name_key):
        if not isinstance(entry, dict):
            raise AnsibleActionFail('file_set: %s[%d] must be a dict, got %r' % (kind, index, entry))
        name = entry.get(name_key)
        what = '%s[%d] (%s)' % (kind, index, name)
        unknown = sorted(set(entry) - keys)
        if unknown:
            raise AnsibleActionFail('file_set: %s: unknown option(s) %s (allowed: %s)' % (what, ', '.join(unknown), ', '.join(sorted(keys))))
        if not isinstance(name, str) or not name.startswith('/'):
            raise AnsibleActionFail('file_set: %s: %s must be an absolute path' % (what, name_key))
        mode = entry.get('mode')
        if not isinstance(mode, str):
            # An unquoted YAML 0644 arrives as the integer 420, which would be read as mode 0420.
            raise AnsibleActionFail('file_set: %s: mode must be a quoted octal string such as "0644", got %r' % (what, mode))
        return what

    def _directory(self, entry, index):
        self._check_entry(entry, index, 'directories', DIR_KEYS, 'path')
        return dict(entry)

    def _permission(self, entry, index):
        self._check_entry(entry, index, 'permissions', PERMISSION_KEYS, 'path')
        return dict(entry)

    def _file(self, entry, index, task_vars):
        what = self._check_entry(entry, index, 'files', FILE_KEYS, 'dest')
        given = [key for key in SOURCES if entry.get(key) is not None]
        if len(given) != 1:
            raise AnsibleActionFail('file_set: %s: give exactly one of content, src and template (got %s)'
                                    % (what, ', '.join(given) or 'none'))
        new = {key: value for key, value in entry.items() if key not in SOURCES}
        if given[0] == 'content':
            if not isinstance(entry['content'], str):
                raise AnsibleActionFail('file_set: %s: content must be a string, got %s' % (what, type(entry['content']).__name__))
            new['content'] = entry['content']
        elif given[0] == 'src':
            new['content'] = self._read_src(entry['src'], what)
        else:
            new['content'] = self._render(entry['template'], entry['dest'], what, task_vars)
        return new

    # -- controller-side content ----------------------------------------------

    def _find(self, subdir, name, what, kind):
        if not isinstance(name, str):
            raise AnsibleActionFail('file_set: %s: %s must be a string, got %r' % (what, kind, name))
        try:
            return self._find_needle(subdir, name)
        except AnsibleError as exc:
            raise AnsibleActionFail('file_set: %s: %s %s not found: %s' % (what, kind, name, to_text(exc)))

    def _read_src(self, name, what):
        path = self._find('files', name, what, 'src')
        try:
            real = self._loader.get_real_file(path, decrypt=True)
            try:
                with open(to_bytes(real, errors='surrogate_or_strict'), 'rb') as handle:
                    data = handle.read()
            finally:
                self._loader.cleanup_tmp_file(real)
        except (AnsibleError, OSError) as exc:
            raise AnsibleActionFail('file_set: %s: cannot read src %s: %s' % (what, path, to_text(exc)))
        if b'\x00' in data:
            raise AnsibleActionFail('file_set: %s: src %s is binary; file_set installs UTF-8 text only' % (what, path))
        try:
            return data.decode('utf-8')
        except UnicodeDecodeError:
            raise AnsibleActionFail('file_set: %s: src %s is not UTF-8 text; file_set installs UTF-8 text only' % (what, path))

    def _render(self, name, dest, what, task_vars):
        source = self._find('templates', name, what, 'template')
        # The search path for includes and imports, built like ansible.builtin.template does.
        searchpath = list(task_vars.get('ansible_search_path', []))
        searchpath.extend([self._loader._basedir, os.path.dirname(source)])
        searchpath = [path for base in searchpath for path in (os.path.join(base, 'templates'), base)]
        overrides = dict(
            block_start_string=BLOCK_START_STRING,
            block_end_string=BLOCK_END_STRING,
            variable_start_string=VARIABLE_START_STRING,
            variable_end_string=VARIABLE_END_STRING,
            comment_start_string=COMMENT_START_STRING,
            comment_end_string=COMMENT_END_STRING,
            trim_blocks=True,
            lstrip_blocks=False,
        )
        temp_vars = task_vars.copy()
        try:
            if HAS_DATA_TAGGING:
                template_data = trust_as_template(self._loader.get_text_file_contents(source))
                temp_vars.update(_template_vars.generate_ansible_template_vars(
                    path=name, fullpath=source, dest_path=dest,
                    include_ansible_managed='ansible_managed' not in temp_vars,
                ))
                overrides['newline_sequence'] = '\n'
                templar = self._templar.copy_with_new_env(searchpath=searchpath, available_variables=temp_vars)
                resultant = templar.template(template_data, escape_backslashes=False, overrides=overrides)
            else:
                with open(to_bytes(source, errors='surrogate_or_strict'), 'rb') as handle:
                    template_data = to_text(handle.read(), errors='surrogate_or_strict')
                managed = 'ansible_managed' in temp_vars
                template_vars = generate_ansible_template_vars(name, source, dest)
                if managed:
                    template_vars.pop('ansible_managed', None)
                temp_vars.update(template_vars)
                templar = self._templar.copy_with_new_env(environment_class=AnsibleEnvironment, searchpath=searchpath,
                                                          newline_sequence='\n', available_variables=temp_vars)
                resultant = templar.do_template(template_data, preserve_trailing_newlines=True, escape_backslashes=False,
                                                overrides=overrides)
        except AnsibleError as exc:
            raise AnsibleActionFail('file_set: %s: template %s failed to render: %s' % (what, source, to_text(exc)))
        except (OSError, UnicodeError) as exc:
            raise AnsibleActionFail('file_set: %s: cannot read template %s: %s' % (what, source, to_text(exc)))
        if resultant is None:
            return ''
        return to_text(resultant, errors='surrogate_or_strict')
