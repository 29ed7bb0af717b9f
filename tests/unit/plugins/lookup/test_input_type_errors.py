# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the input_type_errors lookup (plugins/lookup/input_type_errors.py)."""

import glob
import os

import pytest
import yaml

from ansible.errors import AnsibleError, AnsibleLookupError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.stanford.trusted_mail.plugins.lookup.input_type_errors import LookupModule, check_options

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
OPTIONS = {
    "name": {"type": "str"},
    "file": {"type": "path"},
    "port": {"type": "int"},
    "ciphers": {"type": "list", "elements": "str"},
    "users": {"type": "list", "elements": "dict",
              "options": {"name": {"type": "str"}, "keys": {"type": "list", "elements": "str"}}},
    "limits": {"type": "dict", "options": {"unit": {}}},
    "free": {"type": "dict"},
    "enabled": {"type": "bool"},
    "relays": {"type": "list", "elements": "dict", "options": {"verify": {"type": "bool"}}},
}
ROLES = sorted(os.path.basename(os.path.dirname(os.path.dirname(p)))
               for p in glob.glob(os.path.join(ROOT, "roles", "*", "meta", "argument_specs.yml")))


def test_good_values_give_nothing():
    values = {"name": "mail", "file": "/etc/x", "port": 25, "ciphers": ["aes256-gcm@openssh.com"],
              "users": [{"name": "ann", "keys": ["ssh-ed25519 AAAA"]}], "limits": {"unit": "G"},
              "free": {"anything": {"nested": [1]}}, "unknown": {"a": 1}, "enabled": False,
              "relays": [{"verify": True}]}
    assert check_options(values, OPTIONS) == []


def test_numbers_and_nulls_are_left_to_the_argument_spec():
    assert check_options({"name": 12, "file": None, "ciphers": "aes", "users": "ann"}, OPTIONS) == []


@pytest.mark.parametrize("values, message", [
    ({"name": {"a": 1}}, "name must be a string, not a mapping"),
    ({"file": ["/etc/x"]}, "file must be a string, not a list"),
    ({"ciphers": ["aes", {"b": 1}]}, "ciphers[1] must be a string, not a mapping"),
    ({"users": [{"name": ["ann"]}]}, "users[0].name must be a string, not a list"),
    ({"users": [{"name": "ann", "keys": [["k"]]}]}, "users[0].keys[0] must be a string, not a list"),
    ({"limits": {"unit": {"G": 1}}}, "limits.unit must be a string, not a mapping"),  # type defaults to str
])
def test_values_turned_into_text_are_named(values, message):
    assert check_options(values, OPTIONS) == [message]


@pytest.mark.parametrize("values, message", [
    ({"enabled": "false"}, "enabled must be true or false, not the text 'false' (on the command line, give it as JSON: "
                           "-e '{\"enabled\": false}')"),
    ({"enabled": "yes"}, "enabled must be true or false, not the text 'yes' (on the command line, give it as JSON: "
                         "-e '{\"enabled\": true}')"),
    ({"relays": [{"verify": "no"}]}, "relays[0].verify must be true or false, not the text 'no' (give it as a YAML "
                                     "false, not quoted)"),
])
def test_yes_no_options_given_as_text_are_named(values, message):
    """-e name=false gives the text "false": the argument spec accepts it, a template's "if name" reads it as true."""
    assert check_options(values, OPTIONS) == [message]


def test_yes_no_options_as_numbers_are_left_to_the_argument_spec():
    assert check_options({"enabled": 0}, OPTIONS) == []


def _lookup(tmp_path, variables, **kwargs):
    spec = tmp_path / "argument_specs.yml"
    spec.write_text(yaml.safe_dump({"argument_specs": {"main": {"options": OPTIONS}}}))
    loader = DataLoader()
    lookup = LookupModule(loader=loader, templar=Templar(loader=loader, variables=variables))
    return lookup.run([str(spec)], variables=variables, **kwargs)


def test_lookup_renders_templates_before_checking(tmp_path):
    # inventory and role defaults are trusted as templates; strings made here are not
    variables = {"site": {"a": 1}, "name": trust_as_template("{{ site }}"), "file": trust_as_template("/etc/{{ 'x' }}")}
    assert _lookup(tmp_path, variables) == ["name must be a string, not a mapping"]


def test_lookup_skips_what_cannot_be_rendered(tmp_path):
    # e.g. a vault variable that only the hosts using the feature define
    variables = {"name": trust_as_template("{{ vault_not_here }}"), "file": ["/etc/x"]}
    assert _lookup(tmp_path, variables) == ["file must be a string, not a list"]


def test_lookup_needs_one_readable_spec(tmp_path):
    with pytest.raises(AnsibleLookupError):
        LookupModule().run([], variables={})
    with pytest.raises(AnsibleLookupError):
        _lookup(tmp_path, {}, entry_point="nowhere")


@pytest.mark.parametrize("role", ROLES)
def test_every_role_default_and_the_example_site_pass(role):
    """No false alarm on what the collection ships: each role's defaults and the example site."""
    with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        options = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
    values = {}
    for path in (os.path.join(ROOT, "roles", role, "defaults", "main.yml"),
                 os.path.join(ROOT, "inventories", "example", "group_vars", "trusted_mail.yml")):
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                values.update(yaml.safe_load(handle) or {})
    # As in a play: defaults and inventory are templates, rendered before the check (a
    # yes/no default such as "{{ mta_sasl_enabled }}" is true or false, not text, there).
    values = {name: trust_as_template(value) if isinstance(value, str) else value for name, value in values.items()}
    loader = DataLoader()
    templar = Templar(loader=loader, variables=values)
    rendered = {}
    for name, value in values.items():
        try:
            rendered[name] = templar.template(value)
        except AnsibleError:
            continue  # refers to a variable of another role: the lookup leaves it too
    assert check_options(rendered, options) == []
