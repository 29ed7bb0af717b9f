# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the network filters (plugins/filter/networks.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.stanford.trusted_mail.plugins.filter import networks as nf

STANFORD_V6 = '2607:f6d0::/32'


@pytest.mark.parametrize('entry', ['10.18.0.0/16', '171.64.0.0/14', STANFORD_V6, '[2607:f6d0::]/32', '192.0.2.1/32'])
def test_valid_networks_pass(entry):
    assert nf.invalid_networks([entry]) == []


@pytest.mark.parametrize('entry, reason', [
    ('10.18.0.1/16', 'host bits set'),
    ('171.64.0.0', 'no prefix length'),
    ('10.0.0.0/33', '10.0.0.0/33'),
    ('not-a-network/8', 'not-a-network'),
    ('2607:f6d0::1/32', 'host bits set'),
    ('', 'no prefix length'),
])
def test_invalid_networks_are_named_with_a_reason(entry, reason):
    problems = nf.invalid_networks(['10.18.0.0/16', entry])
    assert len(problems) == 1
    assert problems[0].startswith(entry + ':') and reason in problems[0]


def test_invalid_networks_needs_a_list():
    with pytest.raises(AnsibleFilterError):
        nf.invalid_networks('10.18.0.0/16')


@pytest.mark.parametrize("entry, problem", [
    ("0.0.0.0/0", "0.0.0.0/0: wider than /16, the widest network allowed here for IPv4"),
    ("10.0.0.0/15", "10.0.0.0/15: wider than /16, the widest network allowed here for IPv4"),
    ("::/0", "::/0: wider than /48, the widest network allowed here for IPv6"),
    ("[2001:db8::]/32", "[2001:db8::]/32: wider than /48, the widest network allowed here for IPv6"),
])
def test_invalid_networks_refuses_networks_wider_than_the_limit(entry, problem):
    assert nf.invalid_networks([entry], min_prefix_v4=16, min_prefix_v6=48) == [problem]


def test_invalid_networks_accepts_networks_within_the_limit():
    assert nf.invalid_networks(["171.64.0.0/16", "171.64.10.5/32", "2001:db8:1::/48", "2001:db8::5/128"],
                               min_prefix_v4=16, min_prefix_v6=48) == []
    # No limit by default: only the form is checked.
    assert nf.invalid_networks(["0.0.0.0/0", "::/0"]) == []


@pytest.mark.parametrize("limits", [{"min_prefix_v4": 33}, {"min_prefix_v6": -1}, {"min_prefix_v4": "16"}, {"min_prefix_v6": True}])
def test_invalid_networks_refuses_a_bad_limit(limits):
    with pytest.raises(AnsibleFilterError, match="min_prefix"):
        nf.invalid_networks(["10.0.0.0/8"], **limits)


def test_postfix_networks_brackets_ipv6_only():
    assert nf.postfix_networks(['127.0.0.0/8', '::1/128', STANFORD_V6]) == ['127.0.0.0/8', '[::1]/128', '[2607:f6d0::]/32']


def test_postfix_networks_refuses_bad_entries():
    with pytest.raises(AnsibleFilterError, match='host bits'):
        nf.postfix_networks(['10.18.0.1/16'])


@pytest.mark.parametrize('address, expected', [
    ('171.64.10.25', True),
    ('172.24.77.10', True),
    ('198.51.100.10', False),
    ('2607:f6d0:1::25', True),
    ('2001:db8::1', False),
    ('[2607:f6d0::1]', True),
])
def test_in_networks(address, expected):
    assert nf.in_networks(address, ['171.64.0.0/14', '172.24.0.0/14', STANFORD_V6]) is expected


def test_in_networks_refuses_a_non_address():
    with pytest.raises(AnsibleFilterError):
        nf.in_networks('mail.stanford.edu', ['171.64.0.0/14'])


def test_filter_module_exports_all_three():
    assert set(nf.FilterModule().filters()) == {'invalid_networks', 'postfix_networks', 'in_networks'}
