# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""End-to-end tests of the stanford.trusted_mail.file_set action plugin and module.

Each test writes a small role and playbook into pytest's tmp_path and runs the venv's
``ansible-playbook -c local`` against destinations under tmp_path, so the controller side
(src and template lookup, rendering, one module call, check and diff mode) runs for real.
Results are saved by the playbook as JSON and read back here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import json
import os
import pwd
import re
import stat
import subprocess
import sys

import pytest

REPO = os.path.realpath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
PLAYBOOK_BIN = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
USER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name

pytestmark = pytest.mark.skipif(not os.path.exists(PLAYBOOK_BIN), reason='ansible-playbook not installed next to %s' % sys.executable)

# Loops, if-blocks (also indented ones, where lstrip_blocks matters), a comment, an include
# from the role's templates/, ansible_managed, non-ASCII text and a trailing newline.
TEMPLATE = """\
# {{ ansible_managed }}
{# a comment line #}
[servers]
{% for server in servers %}
{{ server.name }} = {{ server.port }}  # Grüße, café
{% endfor %}
{% if enabled %}
enabled = yes
{% else %}
enabled = no
{% endif %}
    {% if enabled %}
    indented = {{ servers | length }}
    {% endif %}
{% include 'part.j2' %}
last line
"""
PART = "included {{ servers[0].name }}\n"
# No trailing newline, and one ending in two newlines.
TEMPLATE_NO_NEWLINE = "value = {{ servers[1].port }}"
TEMPLATE_TWO_NEWLINES = "value = {{ enabled }}\n\n"
PLAIN = "plain file ✓ ü\nsecond line\n"


def collections_path(tmp_path):
    """build/collections when `make collection` linked it to this checkout, else a link in tmp_path."""
    built = os.path.join(REPO, 'build', 'collections')
    link = os.path.join(built, 'ansible_collections', 'stanford', 'trusted_mail')
    if os.path.isdir(link) and os.path.realpath(link) == REPO:
        return built
    root = tmp_path / 'collections'
    namespace = root / 'ansible_collections' / 'stanford'
    namespace.mkdir(parents=True)
    os.symlink(REPO, str(namespace / 'trusted_mail'))
    return str(root)


class Project:
    """A role and playbooks in tmp_path, run with ansible-playbook -c local."""

    def __init__(self, tmp_path):
        self.root = tmp_path / 'project'
        self.out = tmp_path / 'out'
        self.out.mkdir()
        role = self.root / 'roles' / 'demo'
        for sub in ('tasks', 'templates', 'files', 'handlers'):
            (role / sub).mkdir(parents=True)
        self.role = role
        self.write(role / 'templates' / 'main.conf.j2', TEMPLATE)
        self.write(role / 'templates' / 'part.j2', PART)
        self.write(role / 'templates' / 'nonl.j2', TEMPLATE_NO_NEWLINE)
        self.write(role / 'templates' / 'twonl.j2', TEMPLATE_TWO_NEWLINES)
        self.write(role / 'files' / 'plain.conf', PLAIN)
        # Lookup order: the role's files/ and templates/ win over the playbook's directory, and
        # the playbook's files/ and templates/ are found from a role too.
        self.write(role / 'files' / 'shadow.conf', 'role files\n')
        self.write(self.root / 'shadow.conf', 'playbook dir\n')
        (self.root / 'files').mkdir()
        self.write(self.root / 'files' / 'toplevel.conf', 'playbook files\n')
        self.write(role / 'templates' / 'shadow.j2', 'role templates\n')
        self.write(self.root / 'shadow.j2', 'playbook dir\n')
        (self.root / 'templates').mkdir()
        self.write(self.root / 'templates' / 'toplevel.j2', 'playbook templates {{ enabled }}\n')
        self.write(role / 'handlers' / 'main.yml', """\
- name: Count handler runs
  ansible.builtin.shell: echo ran >> {{ out }}/handler.log
  changed_when: true
""")
        # ansible_managed with the template's name in it, so the template variables must match too.
        self.write(self.root / 'ansible.cfg', '[defaults]\nansible_managed = Managed by Ansible from {file}\nretry_files_enabled = false\n')
        self.env = {key: value for key, value in os.environ.items() if not key.startswith('ANSIBLE_')}
        self.env.update({
            'ANSIBLE_CONFIG': str(self.root / 'ansible.cfg'),
            'ANSIBLE_COLLECTIONS_PATH': collections_path(tmp_path),
            'ANSIBLE_PIPELINING': 'true',
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_FORCE_COLOR': '0',
            'ANSIBLE_DEPRECATION_WARNINGS': 'false',
            'ANSIBLE_LOCAL_TEMP': str(tmp_path / 'ansible-local'),
            'ANSIBLE_STDOUT_CALLBACK': 'ansible.builtin.default',
        })

    @staticmethod
    def write(path, text):
        path.write_bytes(text.encode('utf-8'))

    def tasks(self, text):
        self.write(self.role / 'tasks' / 'main.yml', text)

    def run(self, *options, expect_rc=0, extra_vars=None):
        variables = {
            'out': str(self.out), 'owner': USER, 'group': GROUP,
            'servers': [{'name': 'alpha', 'port': 25}, {'name': 'beta', 'port': 587}], 'enabled': True,
            'ansible_python_interpreter': sys.executable,
        }
        variables.update(extra_vars or {})
        self.write(self.root / 'vars.json', json.dumps(variables))
        self.write(self.root / 'site.yml', """\
- name: Test file_set
  hosts: localhost
  gather_facts: false
  roles:
    - demo
""")
        cmd = [PLAYBOOK_BIN, '-i', 'localhost,', '-c', 'local', '-e', '@' + str(self.root / 'vars.json')] + list(options) + ['site.yml']
        proc = subprocess.run(cmd, cwd=str(self.root), env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, check=False)
        if expect_rc is not None and proc.returncode != expect_rc:
            pytest.fail('ansible-playbook exited %d (expected %d):\n%s' % (proc.returncode, expect_rc, proc.stdout))
        return proc.stdout

    def result(self, name='result'):
        return json.loads((self.out / ('%s.json' % name)).read_text())


SAVE_RESULT = """\
- name: Save the result
  ansible.builtin.copy:
    content: "{{ r | to_json }}"
    dest: "{{ out }}/result.json"
    mode: "0644"
  check_mode: false
  diff: false
"""

FILE_SET_TASK = """\
- name: Install the set
  stanford.trusted_mail.file_set:
    directories:
      - path: "{{ out }}/set/conf.d"
        mode: "0750"
        owner: "{{ owner }}"
        group: "{{ group }}"
    files:
      - dest: "{{ out }}/set/main.conf"
        template: main.conf.j2
        mode: "0644"
        owner: "{{ owner }}"
        group: "{{ group }}"
      - dest: "{{ out }}/set/conf.d/plain.conf"
        src: plain.conf
        mode: "0640"
        owner: "{{ owner }}"
        group: "{{ group }}"
      - dest: "{{ out }}/set/nonl.conf"
        template: nonl.j2
        mode: "0644"
        owner: "{{ owner }}"
        group: "{{ group }}"
      - dest: "{{ out }}/set/twonl.conf"
        template: twonl.j2
        mode: "0644"
        owner: "{{ owner }}"
        group: "{{ group }}"
      - dest: "{{ out }}/set/inline.conf"
        content: "single line inline\\n"
        mode: "0600"
        owner: "{{ owner }}"
        group: "{{ group }}"
  register: r
  notify: Count handler runs
"""

REFERENCE_TASKS = """\
- name: Reference directory
  ansible.builtin.file:
    path: "{{ out }}/ref"
    state: directory
    mode: "0755"
- name: Reference templates
  ansible.builtin.template:
    src: "{{ item }}.j2"
    dest: "{{ out }}/ref/{{ item }}.conf"
    mode: "0644"
  loop: [main.conf, nonl, twonl]
- name: Reference copy
  ansible.builtin.copy:
    src: "{{ item }}"
    dest: "{{ out }}/ref/{{ item }}"
    mode: "0644"
  loop: [plain.conf, shadow.conf, toplevel.conf]
- name: Reference lookups of templates
  ansible.builtin.template:
    src: "{{ item }}.j2"
    dest: "{{ out }}/ref/{{ item }}.tpl"
    mode: "0644"
  loop: [shadow, toplevel]
"""

LOOKUP_TASK = """\
- name: The same lookups with file_set
  stanford.trusted_mail.file_set:
    files:
      - {dest: "{{ out }}/set/shadow.conf", src: shadow.conf, mode: "0644", owner: "{{ owner }}", group: "{{ group }}"}
      - {dest: "{{ out }}/set/toplevel.conf", src: toplevel.conf, mode: "0644", owner: "{{ owner }}", group: "{{ group }}"}
      - {dest: "{{ out }}/set/shadow.tpl", template: shadow.j2, mode: "0644", owner: "{{ owner }}", group: "{{ group }}"}
      - {dest: "{{ out }}/set/toplevel.tpl", template: toplevel.j2, mode: "0644", owner: "{{ owner }}", group: "{{ group }}"}
"""


@pytest.fixture
def project(tmp_path):
    return Project(tmp_path)


def states(result, key='files'):
    return [item['state'] for item in result[key]]


# What AnsibleModule's no_log masking puts in place of a hidden value inside a string
# (exactly eight; the callback's banners are longer runs of "*").
MASKED = re.compile(r'(?<!\*)\*{8}(?!\*)')


def module_execs(output):
    return [line for line in output.splitlines() if re.match(r'^<localhost> EXEC ', line)]


def test_content_matches_builtin_template_and_copy_byte_for_byte(project):
    project.tasks(REFERENCE_TASKS + FILE_SET_TASK + LOOKUP_TASK)
    project.run()
    out = project.out
    main = (out / 'set' / 'main.conf').read_bytes()
    assert main == (out / 'ref' / 'main.conf.conf').read_bytes()
    assert (out / 'set' / 'nonl.conf').read_bytes() == (out / 'ref' / 'nonl.conf').read_bytes() == b'value = 587'
    assert (out / 'set' / 'twonl.conf').read_bytes() == (out / 'ref' / 'twonl.conf').read_bytes() == b'value = True\n\n'
    assert (out / 'set' / 'conf.d' / 'plain.conf').read_bytes() == (out / 'ref' / 'plain.conf').read_bytes() == PLAIN.encode('utf-8')
    # The rendering really used the variables, the include, ansible_managed and the template's name.
    text = main.decode('utf-8')
    assert text.startswith('# Managed by Ansible from main.conf.j2\n')
    assert 'beta = 587  # Grüße, café\n' in text
    # lstrip_blocks off: the indentation before an indented block tag stays.
    assert '        indented = 2\n' in text
    assert '    included alpha' in text
    assert text.endswith('last line\n')
    assert (out / 'set' / 'inline.conf').read_bytes() == b'single line inline\n'
    found = {name: (out / 'set' / name).read_text() for name in ('shadow.conf', 'toplevel.conf', 'shadow.tpl', 'toplevel.tpl')}
    assert found == {name: (out / 'ref' / name).read_text() for name in found}
    assert found == {'shadow.conf': 'role files\n', 'toplevel.conf': 'playbook files\n',
                     'shadow.tpl': 'role templates\n', 'toplevel.tpl': 'playbook templates True\n'}
    modes = {name: oct(os.stat(str(out / 'set' / name)).st_mode & 0o7777) for name in ('main.conf', 'conf.d', 'conf.d/plain.conf', 'inline.conf')}
    assert modes == {'main.conf': '0o644', 'conf.d': '0o750', 'conf.d/plain.conf': '0o640', 'inline.conf': '0o600'}


def test_idempotent_changed_paths_and_handler(project):
    project.tasks(FILE_SET_TASK + SAVE_RESULT)
    project.run()
    first = project.result()
    set_dir = str(project.out / 'set')
    assert first['changed'] is True
    assert first['directories'] == [{'path': set_dir, 'state': 'created', 'parent': True},
                                    {'path': set_dir + '/conf.d', 'state': 'created'}]
    assert states(first) == ['created'] * 5
    assert first['changed_paths'][:3] == [set_dir, set_dir + '/conf.d', set_dir + '/main.conf']
    assert (project.out / 'handler.log').read_text() == 'ran\n'

    project.run()
    second = project.result()
    assert second['changed'] is False
    assert states(second) == ['unchanged'] * 5
    assert second['changed_paths'] == []
    assert (project.out / 'handler.log').read_text() == 'ran\n'

    # A changed variable rewrites exactly the file that uses it; a changed mode is an attribute change.
    os.chmod(str(project.out / 'set' / 'inline.conf'), 0o644)
    project.run(extra_vars={'servers': [{'name': 'alpha', 'port': 25}, {'name': 'beta', 'port': 2525}]})
    third = project.result()
    assert states(third) == ['updated', 'unchanged', 'updated', 'unchanged', 'attributes']
    assert third['changed_paths'] == [set_dir + '/main.conf', set_dir + '/nonl.conf', set_dir + '/inline.conf']
    assert (project.out / 'handler.log').read_text() == 'ran\nran\n'


def test_check_mode_writes_nothing_and_reports_like_a_real_run(project):
    project.tasks(FILE_SET_TASK + SAVE_RESULT)
    output = project.run('--check', '--diff')
    checked = project.result()
    assert sorted(os.listdir(str(project.out))) == ['result.json']
    assert checked['changed'] is True
    # The diff printed: one per changed path, content lines with +, not masked by no_log.
    assert '+++ %s/set/main.conf (after)' % project.out in output
    assert '+beta = 587  # Grüße, café' in output
    assert '+plain file ✓ ü' in output
    assert '+single line inline' in output
    assert '%s/set/conf.d/ (directory): directory created' % project.out in output
    assert not MASKED.search(output)
    project.run()
    real = project.result()
    for key in ('changed', 'files', 'directories', 'changed_paths'):
        assert checked[key] == real[key], key


def test_diff_of_an_update_shows_changed_lines_only(project):
    project.tasks(FILE_SET_TASK)
    project.run()
    output = project.run('--diff', extra_vars={'enabled': False})
    assert '-enabled = yes\n-        indented = 2\n+enabled = no\n' in output
    assert '-value = True\n+value = False\n' in output
    assert ' # Managed by Ansible' not in output  # 3 lines of context around the hunk, not the whole file
    assert 'plain.conf (before)' not in output  # unchanged files have no diff
    assert 'inline.conf' not in output


def test_one_module_execution_without_remote_tmp_and_content_hidden(project):
    project.tasks("""\
- name: Install one secret file
  stanford.trusted_mail.file_set:
    files:
      - dest: "{{ out }}/secret.conf"
        content: "password = hunter2-secret\\nsecond = line\\n"
        mode: "0600"
        owner: "{{ owner }}"
        group: "{{ group }}"
""")
    output = project.run('-vvv')
    execs = module_execs(output)
    # The state read (a shell command, no module), then the one module run.
    assert len(execs) == 2, output
    assert 'sha256sum' in execs[0] and 'python' not in execs[0]
    assert 'python' in execs[1]
    assert 'mkdir' not in output and 'PUT ' not in output
    assert 'hunter2-secret' not in output
    assert '"content": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"' in output
    assert (project.out / 'secret.conf').read_bytes() == b'password = hunter2-secret\nsecond = line\n'
    # Nothing to change: the read alone decides, no module runs.
    output = project.run('-vvv')
    execs = module_execs(output)
    assert len(execs) == 1 and 'sha256sum' in execs[0], output
    assert 'hunter2-secret' not in output
    # The same with pipelining off: the module needs a remote temporary directory, cleaned up.
    project.env['ANSIBLE_PIPELINING'] = 'false'
    os.unlink(str(project.out / 'secret.conf'))
    output = project.run('-vvv')
    assert 'rm -f -r' in output
    assert 'hunter2-secret' not in output


@pytest.mark.skipif(not os.path.exists('/usr/bin/python3'), reason='needs /usr/bin/python3')
def test_the_direct_run_sends_the_module_code_without_ansiballz(project, tmp_path):
    """With pipelining, the file_set code and its driver go to the interpreter as they are.

    The interpreter here is a wrapper that keeps a copy of each program it is sent and runs the
    system Python, which has no Ansible installed: the run needs nothing of Ansible on the host.
    """
    sent = tmp_path / 'sent'
    sent.mkdir()
    wrapper = tmp_path / 'python-wrapper'
    wrapper.write_text('#!/bin/sh\ntee "$(mktemp %s/run.XXXXXX)" | /usr/bin/python3 -I "$@"\n' % sent)
    wrapper.chmod(0o755)

    def programs():
        texts = [path.read_text() for path in sorted(sent.iterdir())]
        for path in sent.iterdir():
            path.unlink()
        return [text for text in texts if 'file_set' in text]

    project.tasks(FILE_SET_TASK + SAVE_RESULT)
    project.run(extra_vars={'ansible_python_interpreter': str(wrapper)})
    code, = programs()
    assert 'def _tm_file_set_direct():' in code and 'def plan(files, directories, check_mode, permissions=()):' in code
    assert '_ansiballz_main' not in code and 'import ansible' not in code and 'from ansible' not in code
    result = project.result()
    everything = [entry['path'] for entry in result['directories'] + result['files']]
    assert result['changed'] is True and sorted(result['changed_paths']) == sorted(everything)
    assert str(project.out / 'set' / 'inline.conf') in everything
    assert (project.out / 'set' / 'conf.d' / 'plain.conf').read_bytes() == PLAIN.encode('utf-8')
    assert stat.S_IMODE(os.stat(str(project.out / 'set' / 'conf.d')).st_mode) == 0o750
    # Nothing left to change: the read decides, nothing is sent to Python for file_set.
    project.run(extra_vars={'ansible_python_interpreter': str(wrapper)})
    assert programs() == [] and project.result()['changed'] is False


@pytest.mark.parametrize('entry, message', [
    ('template: broken.j2', 'template %s/roles/demo/templates/broken.j2 failed to render'),
    ('template: missing.j2', 'template missing.j2 not found'),
    ('src: missing.conf', 'src missing.conf not found'),
    ('src: binary.bin', 'src %s/roles/demo/files/binary.bin is binary'),
    ('content: "x"\n        src: plain.conf', 'give exactly one of content, src and template (got content, src)'),
    ('content: 42', 'content must be a string'),
    ('content: "x"\n        typo: 1', 'unknown option(s) typo'),
])
def test_controller_errors_fail_before_any_remote_call(project, entry, message):
    project.write(project.role / 'templates' / 'broken.j2', 'fine\n{{ no_such_variable }}\n')
    (project.role / 'files' / 'binary.bin').write_bytes(b'\x7fELF\x00\x01')
    project.tasks("""\
- name: One good file and one bad one
  stanford.trusted_mail.file_set:
    files:
      - dest: "{{ out }}/good.conf"
        content: "good\\n"
        mode: "0644"
      - dest: "{{ out }}/bad.conf"
        %s
        mode: "0644"
""" % entry)
    output = project.run('-vvv', expect_rc=2)
    assert ('file_set: files[1] (%s/bad.conf): ' % project.out) + (message.replace('%s', str(project.root)) if '%s' in message else message) in output
    assert module_execs(output) == []
    assert os.listdir(str(project.out)) == []


def test_unquoted_mode_is_refused(project):
    project.tasks("""\
- name: Unquoted mode
  stanford.trusted_mail.file_set:
    files:
      - dest: "{{ out }}/x.conf"
        content: "x\\n"
        mode: 0644
""")
    output = project.run(expect_rc=2)
    # (ansible-core 2.18 prints the message JSON-quoted, 2.19 as text.)
    assert re.search(r'mode must be a quoted octal string such as \\?"0644\\?", got 420', output), output
    assert os.listdir(str(project.out)) == []


def test_failed_validation_changes_nothing(project):
    project.tasks("""\
- name: Two validated files
  stanford.trusted_mail.file_set:
    files:
      - dest: "{{ out }}/a.conf"
        content: "{{ a }}\\n"
        mode: "0644"
        owner: "{{ owner }}"
        group: "{{ group }}"
        validate: grep -q good %s
      - dest: "{{ out }}/b.conf"
        content: "{{ b }}\\n"
        mode: "0644"
        owner: "{{ owner }}"
        group: "{{ group }}"
        validate: grep -q good %s
""")
    project.run(extra_vars={'a': 'good a', 'b': 'good b'})
    output = project.run(extra_vars={'a': 'good a, new', 'b': 'bad b'}, expect_rc=2)
    assert 'validation failed, no file changed: %s/b.conf' % project.out in output
    assert (project.out / 'a.conf').read_text() == 'good a\n'
    assert (project.out / 'b.conf').read_text() == 'good b\n'
    assert sorted(os.listdir(str(project.out))) == ['a.conf', 'b.conf']
