#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: postconf
short_description: Manage Postfix main.cf parameters and master.cf services with postconf
version_added: "0.1.0"
description:
  - Idempotently sets and removes Postfix C(main.cf) parameters and adds, changes and removes
    C(master.cf) services and their C(-o) parameter overrides.
  - All reads and writes go through the real C(postconf) command (C(postconf -n), C(-M), C(-P),
    C(-e), C(-X), C(-MX), C(-PX)); the configuration files are never edited as text, so Postfix's
    own parser decides what the files mean.
  - A C(main.cf) parameter is changed only when its explicitly set value differs from the desired
    value after whitespace normalisation (runs of whitespace, including continuation line breaks,
    collapse to one space; leading and trailing whitespace is ignored). A parameter that is not set
    explicitly is always written, even when the desired value equals Postfix's built-in default,
    so that the configuration states every required value.
  - All changed C(main.cf) parameters are written with one C(postconf -e) call, all removals with
    one C(postconf -X) call.
  - Nothing is reloaded; notify a handler that runs C(postfix check) and reloads Postfix.
author:
  - Stanford trusted_mail maintainers
options:
  config_dir:
    description:
      - The Postfix configuration directory, passed to every command as C(postconf -c DIR).
      - C(main.cf) and C(master.cf) must already exist there (the Debian package installs them,
        except with the C(No configuration) debconf choice).
    type: path
    default: /etc/postfix
  main:
    description:
      - C(main.cf) parameters to set, as a mapping of parameter name to value.
      - Strings are used as given (leading and trailing whitespace is stripped, so YAML folded
        scalars work); integers are written in decimal; booleans are written as C(yes) or C(no);
        lists are joined with C(", "); null is written as an empty value.
      - Names must match C(^[A-Za-z0-9_]+$). Values must not contain line breaks.
      - C(config_directory) cannot be managed here; use O(config_dir).
    type: dict
    default: {}
  main_absent:
    description:
      - C(main.cf) parameters to remove (C(postconf -X)) when they are set explicitly. Postfix then
        uses its built-in default.
      - A name must not appear in both O(main) and O(main_absent).
    type: list
    elements: str
    default: []
  services:
    description:
      - C(master.cf) services, identified by O(services[].name) and O(services[].type).
      - A present service ends exactly as described, including its C(-o) overrides; overrides that
        exist on the service but are not listed in O(services[].parameters) are removed.
      - Services that are not listed are left alone, except for O(overrides_absent).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - The service name (first C(master.cf) column), for example C(submission), C(smtp) or
            C([127.0.0.1]:10025).
        type: str
        required: true
      type:
        description:
          - The service type (second C(master.cf) column).
        type: str
        choices: [inet, unix, unix-dgram, fifo, pass]
        default: inet
      private:
        description:
          - The private column (C(y), C(n) or C(-)). A boolean is written as C(y) or C(n).
        type: raw
        default: "-"
      unprivileged:
        description:
          - The unpriv column (C(y), C(n) or C(-)). A boolean is written as C(y) or C(n).
        type: raw
        default: "-"
      chroot:
        description:
          - The chroot column (C(y), C(n) or C(-)). A boolean is written as C(y) or C(n).
        type: raw
        default: "-"
      wakeup:
        description:
          - The wakeup column (C(-), or a number of seconds optionally followed by C(?)).
        type: raw
        default: "-"
      process_limit:
        description:
          - The maxproc column (C(-) or a number).
        type: raw
        default: "-"
      command:
        description:
          - The command and its arguments, for example C(smtpd) or
            C(pipe flags=Rq user=filter argv=/usr/local/bin/filter ${sender}).
          - Do not put C(-o) options here; use O(services[].parameters).
          - Required when O(services[].state=present).
        type: str
      parameters:
        description:
          - The C(-o name=value) overrides of this service, as a mapping of parameter name to value.
          - Values are rendered like O(main) values, except that lists are joined with C(",")
            (no space), which is the usual C(master.cf) style.
          - Values containing whitespace are written in Postfix's C(-o {name=value}) form; they
            must not contain C({) or C(}).
        type: dict
        default: {}
      state:
        description:
          - Whether the service should exist.
        type: str
        choices: [present, absent]
        default: present
  overrides_absent:
    description:
      - C(-o) overrides to take off every C(master.cf) service that O(services) does not list
        (a listed service already ends exactly as described). For example, an override that
        takes one service's mail past the milters of C(main.cf).
      - An item C(name) removes the override C(name). An item C(name=word) removes only that
        word from a list-valued override, such as C(receive_override_options=no_milters); the
        override itself is removed when no word is left.
      - Names must match C(^[A-Za-z0-9_]+$); a word must not contain whitespace or C(,).
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    description:
      - Everything is computed, nothing is written.
      - If C(postconf) is not installed yet (a fresh host in check mode, before the package task
        really ran) the module reports every requested setting as a change, with null before
        values, and returns a warning. Outside check mode that is an error.
  diff_mode:
    support: full
    description:
      - The diff shows only the touched lines, as C(key = value) lines for C(main.cf) and
        C(name/type = entry) and C(name/type/param = value) lines for C(master.cf).
notes:
  - C(postconf -n) only lists parameters Postfix knows or that are referenced somewhere. Parameters
    that Postfix reports as C(unused parameter) (for example a typo, or a C($mua_...) parameter not
    referenced yet) are read from that warning, so they are still managed idempotently.
  - Requires Postfix 3.0 or later (C(-M), C(-P), C(-X) and the C({name=value}) syntax).
  - After it changed C(main.cf), the module dates the file's modification time 2 seconds back
    (but always later than the time it had). Postfix commands read a C(main.cf) modified within about the
    last second again and again until it is older, in case it is still being written; C(postconf
    -e) has already replaced it whole, so the first Postfix command after a change (a handler's
    C(newaliases) or C(postfix check)) would only wait, 1 to 2 seconds.
requirements:
  - Postfix (the C(postconf) command) on the managed host.
seealso:
  - name: postconf(1)
    description: The Postfix configuration utility.
    link: https://www.postfix.org/postconf.1.html
  - name: master(5)
    description: The master.cf format.
    link: https://www.postfix.org/master.5.html
"""

EXAMPLES = r"""
- name: Relay through the campus smart host | TM-01
  stanford.trusted_mail.postconf:
    main:
      relayhost: "[smtp.stanford.edu]:587"
      inet_interfaces: all
      smtpd_tls_auth_only: true
      mynetworks:
        - 127.0.0.0/8
        - 171.64.0.0/14
      message_size_limit: 52428800
    main_absent:
      - smtpd_tls_cert_file_old
  notify: Check and reload Postfix

- name: Offer authenticated submission only | TM-03
  stanford.trusted_mail.postconf:
    services:
      - name: submission
        type: inet
        private: n
        chroot: y
        command: smtpd
        parameters:
          syslog_name: postfix/submission
          smtpd_tls_security_level: encrypt
          smtpd_sasl_auth_enable: true
          smtpd_client_restrictions:
            - permit_sasl_authenticated
            - reject
      - name: smtps
        state: absent
  notify: Check and reload Postfix

- name: Keep every other service from skipping the milters of main.cf
  stanford.trusted_mail.postconf:
    main:
      smtpd_milters: unix:/clamav/clamav-milter.ctl
      non_smtpd_milters: unix:/clamav/clamav-milter.ctl
    overrides_absent:
      - smtpd_milters
      - non_smtpd_milters
      - milter_default_action
      - receive_override_options=no_milters

- name: Manage a test configuration directory
  stanford.trusted_mail.postconf:
    config_dir: /etc/postfix-test
    main:
      compatibility_level: "3.6"
"""

RETURN = r"""
config_dir:
  description: The configuration directory that was managed.
  returned: always
  type: str
  sample: /etc/postfix
main_changes:
  description:
    - The C(main.cf) parameters that were (or in check mode would be) changed.
    - C(before) is null when the parameter was not set explicitly; C(after) is null when it is removed.
  returned: always
  type: dict
  sample:
    relayhost:
      before: null
      after: "[smtp.stanford.edu]:587"
    smtpd_tls_cert_file_old:
      before: /etc/ssl/old.pem
      after: null
service_changes:
  description:
    - One item for each C(master.cf) service that was (or would be) added, modified or removed.
    - C(before) and C(after) are the service's columns and command without C(-o) overrides
      (null when the service does not exist); C(parameters) lists the changed overrides.
  returned: always
  type: list
  elements: dict
  sample:
    - service: submission/inet
      action: added
      before: null
      after: submission inet n - y - - smtpd
      parameters:
        syslog_name:
          before: null
          after: postfix/submission
diff:
  description: The touched lines before and after, when run with C(--diff).
  returned: when diff mode is enabled
  type: dict
  sample:
    before: ""
    after: "relayhost = [smtp.stanford.edu]:587\nsubmission/inet = submission inet n - y - - smtpd\n"
    before_header: /etc/postfix (before)
    after_header: /etc/postfix (after)
"""

import os  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402

PARAM_NAME_RE = re.compile(r'^[A-Za-z0-9_]+$')
SERVICE_NAME_RE = re.compile(r'^[A-Za-z0-9_.:\[\]][A-Za-z0-9_.:\[\]-]*$')  # no leading '-': it would be read as an option
YNDASH_RE = re.compile(r'^[yn-]$')
WAKEUP_RE = re.compile(r'^(-|[0-9]+\??)$')
MAXPROC_RE = re.compile(r'^(-|[0-9]+)$')
SERVICE_TYPES = ('inet', 'unix', 'unix-dgram', 'fifo', 'pass')
FIELD_NAMES = ('private', 'unprivileged', 'chroot', 'wakeup', 'process_limit')
# Read-only in practice: `postconf -c DIR -n` always reports it as DIR.
UNMANAGEABLE_MAIN = ('config_directory',)

NOT_INSTALLED_MSG = 'postconf not found: install Postfix first'
# How far back main.cf's modification time is dated after a change (see cool_down).
COOL_DOWN_SECONDS = 2

_N_LINE_RE = re.compile(r'^(?P<name>[A-Za-z0-9_]+)\s*=\s?(?P<value>.*)$')
_P_LINE_RE = re.compile(r'^(?P<name>[^/\s]+)/(?P<type>[^/\s]+)/(?P<param>[^/=\s]+)\s*=\s?(?P<value>.*)$')
# postconf prefixes its messages with argv[0], e.g. "/usr/sbin/postconf: warning: ...".
_UNUSED_RE = re.compile(r'^(?:\S*/)?postconf: warning: (?P<path>.+?): unused parameter: (?P<name>[A-Za-z0-9_]+)=(?P<value>.*)$')


class PostconfError(Exception):
    """Invalid input, or output that cannot be understood."""


# ---------------------------------------------------------------------------
# Pure helpers (unit-tested without Postfix)
# ---------------------------------------------------------------------------

def normalize(value):
    """Collapse every run of whitespace (line breaks included) to one space and strip."""
    if value is None:
        return None
    return ' '.join(str(value).split())


def _render_scalar(value, what):
    if value is None:
        return ''
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    raise PostconfError('%s: unsupported value type %s (use a string, number, boolean or list)' % (what, type(value).__name__))


def render_value(value, what='value', list_separator=', '):
    """Render a module value as postconf text: bool -> yes/no, list -> joined, None -> ''."""
    if isinstance(value, (list, tuple)):
        return list_separator.join(_render_scalar(item, what) for item in value)
    return _render_scalar(value, what)


def validate_param_name(name, what='main'):
    if not isinstance(name, str) or not PARAM_NAME_RE.match(name):
        raise PostconfError('%s: invalid parameter name %r (allowed: letters, digits and "_")' % (what, name))


def validate_value(name, rendered):
    if '\n' in rendered or '\r' in rendered:
        raise PostconfError('%s: value must not contain line breaks: %r' % (name, rendered))


def prepare_main(main, main_absent):
    """Validate and render the desired main.cf state.

    Returns (desired, absent): an ordered dict name -> rendered value and a list of names.
    """
    desired = {}
    for name, value in (main or {}).items():
        validate_param_name(name, 'main')
        if name in UNMANAGEABLE_MAIN:
            raise PostconfError('main: %s cannot be managed in main.cf; use the config_dir option' % name)
        rendered = render_value(value, 'main: %s' % name)
        validate_value('main: %s' % name, rendered)
        desired[name] = rendered
    absent = []
    for name in main_absent or []:
        validate_param_name(name, 'main_absent')
        if name in UNMANAGEABLE_MAIN:
            raise PostconfError('main_absent: %s cannot be managed in main.cf' % name)
        if name in desired:
            raise PostconfError('main_absent: %s is also listed in main' % name)
        if name not in absent:
            absent.append(name)
    return desired, absent


def _render_field(value, field, service_key):
    if isinstance(value, bool):
        value = 'y' if value else 'n'
    elif value is None:
        value = '-'
    elif isinstance(value, int):
        value = str(value)
    elif not isinstance(value, str):
        raise PostconfError('services: %s: %s has unsupported type %s' % (service_key, field, type(value).__name__))
    value = value.strip()
    pattern = {'wakeup': WAKEUP_RE, 'process_limit': MAXPROC_RE}.get(field, YNDASH_RE)
    if not pattern.match(value):
        allowed = {'wakeup': '"-" or seconds, optionally followed by "?"', 'process_limit': '"-" or a number'}.get(field, '"y", "n" or "-"')
        raise PostconfError('services: %s: invalid %s %r (allowed: %s)' % (service_key, field, value, allowed))
    return value


def tokenize_master(text):
    """Split a master.cf entry on whitespace, keeping Postfix's ``{ ... }`` groups as one token."""
    tokens = []
    i, length = 0, len(text)
    while i < length:
        if text[i].isspace():
            i += 1
            continue
        start = i
        if text[i] == '{':
            depth = 0
            while i < length:
                if text[i] == '{':
                    depth += 1
                elif text[i] == '}':
                    depth -= 1
                    if depth == 0:
                        i += 1
                        break
                i += 1
        else:
            while i < length and not text[i].isspace():
                i += 1
        tokens.append(text[start:i])
    return tokens


def split_command(tokens):
    """Split command tokens (command name first) into (other tokens, -o parameters).

    Mirrors how Postfix treats master.cf arguments: options are only recognised directly after
    the command name, up to the first argument that does not start with "-".
    """
    if not tokens:
        return [], []
    rest, params = [tokens[0]], []
    i = 1
    while i < len(tokens):
        tok = tokens[i]
        if tok == '--' or not tok.startswith('-') or tok == '-':
            break
        if tok == '-o':
            if i + 1 < len(tokens):
                params.append(tokens[i + 1])
            i += 2
            continue
        if tok.startswith('-o'):
            params.append(tok[2:])
        else:
            rest.append(tok)
        i += 1
    rest.extend(tokens[i:])
    return rest, params


def _parse_o_value(text):
    text = text.strip()
    if text.startswith('{') and text.endswith('}'):
        text = text[1:-1].strip()
    name, _sep, value = text.partition('=')
    return name.strip(), value.strip()


def _join_continuations(text):
    """Join lines that start with whitespace to the previous line (postconf -f style)."""
    lines = []
    for line in (text or '').splitlines():
        if not line.strip():
            continue
        if line[:1].isspace() and lines:
            lines[-1] = lines[-1] + ' ' + line.strip()
        else:
            lines.append(line.rstrip())
    return lines


def parse_postconf_n(text):
    """Parse ``postconf -n`` output into name -> value (continuation lines joined)."""
    result = {}
    for line in _join_continuations(text):
        match = _N_LINE_RE.match(line)
        if not match:
            raise PostconfError('cannot parse postconf -n output line: %r' % line)
        result[match.group('name')] = match.group('value').strip()
    return result


def parse_unused_warnings(text, filename='main.cf'):
    """Parse ``unused parameter: name=value`` warnings about FILENAME from postconf's stderr."""
    result = {}
    for line in (text or '').splitlines():
        match = _UNUSED_RE.match(line.rstrip())
        if match and os.path.basename(match.group('path')) == filename:
            result[match.group('name')] = match.group('value').strip()
    return result


def parse_master_entry(line):
    """Parse one (continuation-joined) master.cf entry as printed by ``postconf -M``."""
    tokens = tokenize_master(line)
    if len(tokens) < 8:
        raise PostconfError('cannot parse master.cf entry: %r' % line)
    rest, params = split_command(tokens[7:])
    parameters = {}
    for item in params:
        name, value = _parse_o_value(item)
        parameters[name] = value
    return {
        'name': tokens[0],
        'type': tokens[1],
        'private': tokens[2],
        'unprivileged': tokens[3],
        'chroot': tokens[4],
        'wakeup': tokens[5],
        'process_limit': tokens[6],
        'command': ' '.join(rest),
        'parameters': parameters,
    }


def parse_postconf_M(text):
    """Parse ``postconf -M`` (or ``-Mf``) output into 'name/type' -> entry dict."""
    result = {}
    for line in _join_continuations(text):
        entry = parse_master_entry(line)
        result['%s/%s' % (entry['name'], entry['type'])] = entry
    return result


def parse_postconf_P(text):
    """Parse ``postconf -P`` output into 'name/type' -> {param: value}."""
    result = {}
    for line in _join_continuations(text):
        match = _P_LINE_RE.match(line)
        if not match:
            raise PostconfError('cannot parse postconf -P output line: %r' % line)
        key = '%s/%s' % (match.group('name'), match.group('type'))
        result.setdefault(key, {})[match.group('param')] = match.group('value').strip()
    return result


def prepare_services(services):
    """Validate and render the desired services. Returns a list of normalised service dicts."""
    prepared = []
    seen = set()
    for index, item in enumerate(services or []):
        if not isinstance(item, dict):
            raise PostconfError('services[%d]: must be a dictionary' % index)
        name = item.get('name')
        if not isinstance(name, str) or not SERVICE_NAME_RE.match(name):
            raise PostconfError('services[%d]: invalid service name %r (allowed: letters, digits and "_.:[]-", not starting with "-")' % (index, name))
        stype = item.get('type') or 'inet'
        if stype not in SERVICE_TYPES:
            raise PostconfError('services[%d]: invalid type %r (choices: %s)' % (index, stype, ', '.join(SERVICE_TYPES)))
        key = '%s/%s' % (name, stype)
        if key in seen:
            raise PostconfError('services: %s is listed more than once' % key)
        seen.add(key)
        state = item.get('state') or 'present'
        if state not in ('present', 'absent'):
            raise PostconfError('services: %s: invalid state %r' % (key, state))
        svc = {'key': key, 'name': name, 'type': stype, 'state': state}
        if state == 'absent':
            prepared.append(svc)
            continue
        for field in FIELD_NAMES:
            svc[field] = _render_field(item.get(field, '-'), field, key)
        command = item.get('command')
        if not isinstance(command, str) or not command.strip():
            raise PostconfError('services: %s: command is required when state=present' % key)
        validate_value('services: %s: command' % key, command.strip())
        tokens = tokenize_master(command)
        if tokens[0].startswith('-'):
            raise PostconfError('services: %s: command must start with the program name, not %r' % (key, tokens[0]))
        if split_command(tokens)[1]:
            raise PostconfError('services: %s: put -o overrides in parameters, not in command' % key)
        svc['command'] = ' '.join(tokens)
        parameters = {}
        for pname, pvalue in (item.get('parameters') or {}).items():
            validate_param_name(pname, 'services: %s: parameters' % key)
            rendered = render_value(pvalue, 'services: %s: %s' % (key, pname), list_separator=',')
            validate_value('services: %s: %s' % (key, pname), rendered)
            if has_whitespace(rendered) and ('{' in rendered or '}' in rendered):
                raise PostconfError('services: %s: %s: a value with whitespace must not contain "{" or "}"' % (key, pname))
            parameters[pname] = rendered
        svc['parameters'] = parameters
        prepared.append(svc)
    return prepared


def prepare_overrides_absent(items):
    """Validate OVERRIDES_ABSENT. Returns name -> None (remove the override) or a list of words."""
    prepared = {}
    for item in items or []:
        if not isinstance(item, str):
            raise PostconfError('overrides_absent: %r is not a string' % (item,))
        name, sep, word = item.partition('=')
        name, word = name.strip(), word.strip()
        validate_param_name(name, 'overrides_absent')
        if not sep:
            prepared[name] = None
            continue
        if not word or has_whitespace(word) or ',' in word:
            raise PostconfError('overrides_absent: %r: give one word after "=" (no whitespace or ",")' % item)
        if name not in prepared:
            prepared[name] = []
        if prepared[name] is not None and word not in prepared[name]:
            prepared[name].append(word)
    return prepared


def override_words(value):
    """The words of a list-valued parameter (separated by commas and/or whitespace)."""
    return [word for word in re.split(r'[\s,]+', value) if word]


def _plan_parameters(plan, key, param_changes):
    """Plan -P (set) and -PX (remove) writes for one service's changed overrides."""
    for name, change in param_changes.items():
        if change['after'] is None:
            plan['remove_params'].append('%s/%s' % (key, name))
        else:
            plan['set_params'].append('%s/%s=%s' % (key, name, change['after']))


def compute_override_removals(current_services, current_params, listed_keys, overrides_absent):
    """Take OVERRIDES_ABSENT (prepared) off every current service whose key is not in LISTED_KEYS.

    Returns (plan, changes) like compute_service_changes: the plan has ``entries``,
    ``set_params`` and ``remove_params``; changes holds one 'modified' item per service touched.
    """
    plan = {'entries': {}, 'set_params': [], 'remove_params': []}
    changes = []
    for key, current in current_services.items():
        if key in listed_keys:
            continue
        params_now = current_params.get(key, {})
        param_changes = {}
        for name, words in overrides_absent.items():
            before = params_now.get(name)
            if before is None:
                continue
            if words is None:
                param_changes[name] = {'before': before, 'after': None}
                continue
            present = override_words(before)
            kept = [word for word in present if word not in words]
            if len(kept) < len(present):
                param_changes[name] = {'before': before, 'after': ','.join(kept) or None}
        if not param_changes:
            continue
        remaining = dict(params_now)
        for name, change in param_changes.items():
            if change['after'] is None:
                del remaining[name]
            else:
                remaining[name] = change['after']
        if any(has_whitespace(value) for value in remaining.values()):
            # postconf -P refuses values with whitespace: rewrite the entry, other overrides kept.
            plan['entries'][key] = build_service_entry(dict(current, parameters=remaining))
        else:
            _plan_parameters(plan, key, param_changes)
        changes.append({'service': key, 'action': 'modified', 'before': service_line(current),
                        'after': service_line(current), 'parameters': param_changes})
    return plan, changes


def has_whitespace(value):
    return any(ch.isspace() for ch in value)


def compute_main_changes(current, desired, absent):
    """Compare explicitly set parameters (CURRENT) with DESIRED and ABSENT.

    Returns (to_set, to_remove, changes): to_set name -> value for ``postconf -e``, to_remove a
    list for ``postconf -X``, changes name -> {before, after}.
    """
    to_set, to_remove, changes = {}, [], {}
    for name, value in desired.items():
        before = current.get(name)
        if before is None or normalize(before) != normalize(value):
            to_set[name] = value
            changes[name] = {'before': before, 'after': value}
    for name in absent:
        if name in current:
            to_remove.append(name)
            changes[name] = {'before': current[name], 'after': None}
    return to_set, to_remove, changes


def service_line(svc):
    """The columns and command of a service, single-spaced, without -o overrides."""
    return ' '.join([svc['name'], svc['type']] + [svc[field] for field in FIELD_NAMES] + [svc['command']])


def format_o_option(name, value):
    if has_whitespace(value):
        return '-o {%s=%s}' % (name, value)
    return '-o %s=%s' % (name, value)


def build_service_entry(svc):
    """The complete master.cf entry for ``postconf -M``, -o overrides directly after the command name."""
    tokens = tokenize_master(svc['command'])
    options = [format_o_option(name, value) for name, value in svc['parameters'].items()]
    parts = [svc['name'], svc['type']] + [svc[field] for field in FIELD_NAMES] + tokens[:1] + options + tokens[1:]
    return ' '.join(parts)


def _fields_equal(current, svc):
    for field in FIELD_NAMES + ('command',):
        if normalize(current[field]) != normalize(svc[field]):
            return False
    return True


def compute_service_changes(current_services, current_params, desired):
    """Compare current master.cf state with the DESIRED prepared services.

    CURRENT_SERVICES: 'name/type' -> parsed entry (``postconf -M``); CURRENT_PARAMS:
    'name/type' -> {param: value} (``postconf -P``).

    Returns (plan, changes). PLAN holds the write operations: ``remove`` (keys for -MX),
    ``entries`` (key -> entry for -M), ``set_params`` (list of 'name/type/param=value' for -P) and
    ``remove_params`` (list of 'name/type/param' for -PX). CHANGES is the returned description.
    """
    plan = {'remove': [], 'entries': {}, 'set_params': [], 'remove_params': []}
    changes = []
    for svc in desired:
        key = svc['key']
        current = current_services.get(key)
        params_now = dict(current_params.get(key, {})) if current is not None else {}
        if svc['state'] == 'absent':
            if current is not None:
                plan['remove'].append(key)
                changes.append({
                    'service': key, 'action': 'removed',
                    'before': service_line(current), 'after': None,
                    'parameters': {p: {'before': v, 'after': None} for p, v in params_now.items()},
                })
            continue
        param_changes = {}
        for pname, value in svc['parameters'].items():
            before = params_now.get(pname)
            if before is None or normalize(before) != normalize(value):
                param_changes[pname] = {'before': before, 'after': value}
        for pname, before in params_now.items():
            if pname not in svc['parameters']:
                param_changes[pname] = {'before': before, 'after': None}
        if current is None:
            plan['entries'][key] = build_service_entry(svc)
            changes.append({
                'service': key, 'action': 'added', 'before': None, 'after': service_line(svc),
                'parameters': param_changes,
            })
            continue
        fields_differ = not _fields_equal(current, svc)
        if not fields_differ and not param_changes:
            continue
        needs_entry = fields_differ or any(
            c['after'] is not None and has_whitespace(c['after']) for c in param_changes.values())
        if needs_entry:
            # -M replaces the whole entry, -o overrides included.
            plan['entries'][key] = build_service_entry(svc)
        else:
            _plan_parameters(plan, key, param_changes)
        changes.append({
            'service': key, 'action': 'modified', 'before': service_line(current), 'after': service_line(svc),
            'parameters': param_changes,
        })
    return plan, changes


def build_diff(main_changes, service_changes, config_dir):
    """Diff text of the touched lines only."""
    before, after = [], []
    for name, change in main_changes.items():
        if change['before'] is not None:
            before.append('%s = %s' % (name, change['before']))
        if change['after'] is not None:
            after.append('%s = %s' % (name, change['after']))
    for change in service_changes:
        key = change['service']
        if change['before'] != change['after']:
            if change['before'] is not None:
                before.append('%s = %s' % (key, change['before']))
            if change['after'] is not None:
                after.append('%s = %s' % (key, change['after']))
        for pname, pchange in change['parameters'].items():
            if pchange['before'] is not None:
                before.append('%s/%s = %s' % (key, pname, pchange['before']))
            if pchange['after'] is not None:
                after.append('%s/%s = %s' % (key, pname, pchange['after']))
    return {
        'before': ''.join(line + '\n' for line in before),
        'after': ''.join(line + '\n' for line in after),
        'before_header': '%s (before)' % config_dir,
        'after_header': '%s (after)' % config_dir,
    }


# ---------------------------------------------------------------------------
# Running postconf
# ---------------------------------------------------------------------------

class Postconf:
    """Thin wrapper around the postconf binary for one configuration directory."""

    def __init__(self, module, binary, config_dir):
        self.module = module
        self.binary = binary
        self.config_dir = config_dir

    def run(self, args, changes=None):
        cmd = [self.binary, '-c', self.config_dir] + list(args)
        rc, out, err = self.module.run_command(cmd, environ_update={'LC_ALL': 'C', 'LANG': 'C'})
        if rc != 0:
            extra = {}
            if changes is not None:
                extra = changes
            self.module.fail_json(msg='postconf failed: %s' % (err.strip() or out.strip() or 'exit code %d' % rc),
                                  cmd=cmd, rc=rc, stdout=out, stderr=err, **extra)
        return out, err

    def read_main(self):
        out, err = self.run(['-n'])
        current = parse_unused_warnings(err, 'main.cf')
        current.update(parse_postconf_n(out))
        return current

    def read_services(self):
        services = parse_postconf_M(self.run(['-M'])[0])
        params = parse_postconf_P(self.run(['-P'])[0])
        # Services without -o overrides have no -P lines; fall back to what -M showed.
        for key, entry in services.items():
            if key not in params and entry['parameters']:
                params[key] = dict(entry['parameters'])
        return services, params


def cool_down(path, previous_mtime, now=None):
    """Date PATH's modification time COOL_DOWN_SECONDS back, but always later than PREVIOUS_MTIME
    (what it was before the change), so tools that compare times still see a change.

    Postfix reads main.cf again and again (every 0.3 s) while its modification time is within
    about a second of the read, in case it is still being written (load_file in Postfix's
    util library). postconf -e has replaced the file whole (a rename), so the next Postfix
    command would only wait: 1 to 2 seconds for the first one after a change, measured.
    """
    now = time.time() if now is None else now
    mtime = max(previous_mtime + 0.001, now - COOL_DOWN_SECONDS)
    st = os.stat(path)
    if st.st_mtime > mtime:
        os.utime(path, (st.st_atime, mtime))


def _fail(module, msg, **kwargs):
    module.fail_json(msg=msg, **kwargs)


def run_module(module):
    params = module.params
    config_dir = params['config_dir']
    result = {'changed': False, 'main_changes': {}, 'service_changes': [], 'config_dir': config_dir}

    try:
        desired_main, absent_main = prepare_main(params['main'], params['main_absent'])
        desired_services = prepare_services(params['services'])
        overrides_absent = prepare_overrides_absent(params['overrides_absent'])
    except PostconfError as exc:
        _fail(module, str(exc), **result)

    binary = module.get_bin_path('postconf', required=False, opt_dirs=['/usr/sbin', '/sbin', '/usr/local/sbin'])
    main_cf = os.path.join(config_dir, 'main.cf')
    master_cf = os.path.join(config_dir, 'master.cf')
    postconf = None
    current_main, current_services, current_params = {}, {}, {}

    if binary is None:
        if not module.check_mode:
            _fail(module, NOT_INSTALLED_MSG, **result)
        module.warn('%s; check mode assumes an empty configuration, so every requested setting is reported as a change' % NOT_INSTALLED_MSG)
    else:
        postconf = Postconf(module, binary, config_dir)
        missing = [path for path in (main_cf, master_cf) if not os.path.isfile(path)]
        if missing:
            msg = '%s not found: postconf can only edit existing files (install Postfix or create them first)' % ', '.join(missing)
            if not module.check_mode:
                _fail(module, msg, **result)
            module.warn(msg + '; check mode assumes they are empty')
        if os.path.isfile(main_cf) and os.path.isfile(master_cf):
            try:
                current_main = postconf.read_main()
                current_services, current_params = postconf.read_services()
            except PostconfError as exc:
                _fail(module, str(exc), **result)

    to_set, to_remove, main_changes = compute_main_changes(current_main, desired_main, absent_main)
    plan, service_changes = compute_service_changes(current_services, current_params, desired_services)
    removals, removal_changes = compute_override_removals(
        current_services, current_params, {svc['key'] for svc in desired_services}, overrides_absent)
    plan['entries'].update(removals['entries'])
    plan['set_params'].extend(removals['set_params'])
    plan['remove_params'].extend(removals['remove_params'])
    service_changes.extend(removal_changes)

    result['main_changes'] = main_changes
    result['service_changes'] = service_changes
    result['changed'] = bool(main_changes or service_changes)
    if module._diff:
        result['diff'] = build_diff(main_changes, service_changes, config_dir)

    if result['changed'] and not module.check_mode:
        main_before = os.stat(main_cf).st_mtime
        if to_set:
            postconf.run(['-e'] + ['%s=%s' % item for item in to_set.items()], result)
        if to_remove:
            postconf.run(['-X'] + to_remove, result)
        if to_set or to_remove:
            cool_down(main_cf, main_before)
        if plan['remove']:
            postconf.run(['-MX'] + plan['remove'], result)
        if plan['entries']:
            postconf.run(['-M'] + ['%s=%s' % item for item in plan['entries'].items()], result)
        if plan['remove_params']:
            postconf.run(['-PX'] + plan['remove_params'], result)
        if plan['set_params']:
            postconf.run(['-P'] + plan['set_params'], result)

    module.exit_json(**result)


def main():
    service_spec = dict(
        name=dict(type='str', required=True),
        type=dict(type='str', default='inet', choices=list(SERVICE_TYPES)),
        private=dict(type='raw', default='-'),
        unprivileged=dict(type='raw', default='-'),
        chroot=dict(type='raw', default='-'),
        wakeup=dict(type='raw', default='-'),
        process_limit=dict(type='raw', default='-'),
        command=dict(type='str'),
        parameters=dict(type='dict', default={}),
        state=dict(type='str', default='present', choices=['present', 'absent']),
    )
    module = AnsibleModule(
        argument_spec=dict(
            config_dir=dict(type='path', default='/etc/postfix'),
            main=dict(type='dict', default={}),
            main_absent=dict(type='list', elements='str', default=[]),
            services=dict(type='list', elements='dict', default=[], options=service_spec,
                          required_if=[('state', 'present', ('command',))]),
            overrides_absent=dict(type='list', elements='str', default=[]),
        ),
        supports_check_mode=True,
    )
    run_module(module)


if __name__ == '__main__':
    main()
