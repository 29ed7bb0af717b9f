# -*- coding: utf-8 -*-
# Copyright: Stanford University
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role inputs that a role argument spec would silently turn into text."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: input_type_errors
author: stanford.trusted_mail maintainers
short_description: Name the role inputs a role argument spec would let through as the wrong kind of value
version_added: 0.3.0
description:
  - Ansible's role argument validation converts any value given for an option of type C(str) or
    C(path), and any list element for C(elements) C(str) or C(path), to a string. A mapping or a
    list given there by mistake passes validation and ends up in a configuration file as its
    Python representation.
  - This lookup reads an entry point's options from a role's C(meta/argument_specs.yml), renders
    each of those variables the play defines, and returns one message per such value, with its
    place (C(access_admin_users[0].name)). Sub-options of dicts and of lists of dicts are checked
    too.
  - It also names each option of type C(bool) given as text (C(-e name=false) on the command
    line, or an INI inventory). The argument spec accepts such text, but the variable stays a
    string, and a template's C(if name) reads the non-empty text C(false) as true.
  - A variable that is not defined, is null, or cannot be rendered here (for example one that
    refers to a vault variable only defined where the feature is used) is not checked; the
    argument spec and the tasks that use it report those.
options:
  _terms:
    description: The path of the role's C(meta/argument_specs.yml).
    required: true
  entry_point:
    description: The entry point whose options are checked.
    type: str
    default: main
"""

EXAMPLES = r"""
- name: Refuse values the argument spec would turn into text
  vars:
    _problems: "{{ query('stanford.trusted_mail.input_type_errors', role_path ~ '/meta/argument_specs.yml') }}"
  ansible.builtin.assert:
    that: _problems | length == 0
    fail_msg: "{{ _problems | join('; ') }}"
"""

RETURN = r"""
_raw:
  description:
    - One message per problem ("place must be a string, not a mapping/list", or "place must be true or
      false, not the text ..."); empty when there is none.
  type: list
  elements: str
"""

from collections.abc import Mapping  # noqa: E402

import yaml  # noqa: E402

from ansible.errors import AnsibleError, AnsibleLookupError  # noqa: E402
from ansible.plugins.lookup import LookupBase  # noqa: E402

TEXT_TYPES = ("str", "path")
# Text that Ansible's boolean conversion reads as true (for the hint in the message).
TRUE_TEXT = ("yes", "on", "1", "true", "y", "t")


def _kind(value):
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple, set)):
        return "a list"
    return None


def _check(value, spec, where, problems):
    if value is None:
        return
    kind = spec.get("type", "str")
    if kind == "bool":
        if isinstance(value, str):
            wanted = "true" if value.strip().lower() in TRUE_TEXT else "false"
            hint = ("on the command line, give it as JSON: -e '{\"%s\": %s}'" % (where, wanted) if where.isidentifier()
                    else "give it as a YAML %s, not quoted" % wanted)
            problems.append("%s must be true or false, not the text %r (%s)" % (where, value, hint))
        return
    if kind in TEXT_TYPES:
        if _kind(value):
            problems.append("%s must be a string, not %s" % (where, _kind(value)))
        return
    suboptions = spec.get("options") or {}
    if kind == "list" and isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            place = "%s[%d]" % (where, index)
            if spec.get("elements") in TEXT_TYPES and _kind(item):
                problems.append("%s must be a string, not %s" % (place, _kind(item)))
            elif spec.get("elements") == "dict" and suboptions and isinstance(item, Mapping):
                check_options(item, suboptions, place, problems)
    elif kind == "dict" and suboptions and isinstance(value, Mapping):
        check_options(value, suboptions, where, problems)


def check_options(values, options, where="", problems=None):
    """Messages for the values (name -> rendered value) against argument_specs options."""
    problems = [] if problems is None else problems
    for name, spec in options.items():
        if name in values:
            _check(values[name], spec or {}, "%s.%s" % (where, name) if where else name, problems)
    return problems


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        unknown = set(kwargs) - {"entry_point"}
        if unknown:
            raise AnsibleLookupError("input_type_errors: unknown option(s) %s" % ", ".join(sorted(unknown)))
        if len(terms) != 1:
            raise AnsibleLookupError("input_type_errors takes one term: the path of a role's meta/argument_specs.yml")
        entry_point = kwargs.get("entry_point", "main")
        try:
            with open(terms[0], encoding="utf-8") as handle:
                options = yaml.safe_load(handle)["argument_specs"][entry_point]["options"]
        except (OSError, KeyError, TypeError, yaml.YAMLError) as exc:
            raise AnsibleLookupError("input_type_errors: cannot read the options of %r in %s: %s" % (entry_point, terms[0], exc))
        variables = variables or {}
        values = {}
        for name in options:
            if name not in variables:
                continue
            try:
                values[name] = self._templar.template(variables[name])
            except AnsibleError:
                continue  # left to the argument spec and to the tasks that use it
        return check_options(values, options)
