"""Unit tests for the campus_networks lookup."""

import ipaddress

import pytest
from ansible.errors import AnsibleLookupError

from ansible_collections.stanford.trusted_mail.plugins.lookup.campus_networks import LookupModule


@pytest.fixture
def lookup():
    return LookupModule()


def test_all_networks_are_valid_cidrs_with_host_bits_zero(lookup):
    networks = lookup.run([])
    assert len(networks) == 21
    for net in networks:
        ipaddress.ip_network(net, strict=True)


def test_includes_both_families_and_the_cloud_network(lookup):
    networks = lookup.run([])
    assert "172.24.0.0/14" in networks and "2607:f6d0::/32" in networks
    assert "68.65.160.0/20" in networks


def test_cloud_network_can_be_left_out(lookup):
    networks = lookup.run([], include_cloud=False)
    assert "68.65.160.0/20" not in networks and len(networks) == 20


def test_no_duplicates(lookup):
    # The published list itself nests 172.20.224.0/21 inside 172.20.128.0/17; kept as published.
    nets = lookup.run([])
    assert len(set(nets)) == len(nets)


@pytest.mark.parametrize("terms, kwargs", [(["x"], {}), ([], {"include_clouds": True}), ([], {"include_cloud": "maybe"})])
def test_bad_arguments_are_refused(lookup, terms, kwargs):
    with pytest.raises(AnsibleLookupError):
        lookup.run(terms, **kwargs)
