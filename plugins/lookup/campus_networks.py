# -*- coding: utf-8 -*-
# Copyright: Stanford University
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The University's campus networks: the one list every role starts from."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: campus_networks
author: stanford.trusted_mail maintainers
short_description: The University's campus networks (default for every role)
version_added: 0.2.0
description:
  - Returns the networks University IT lists as "Stanford All Networks", and by default the
    University's cloud network, as CIDR strings (IPv4 and IPv6).
  - It is the single default behind O(stanford.trusted_mail.mta#role:main:mta_relay_networks) and
    the other roles' campus-network variables, so they agree unless a site overrides one of them.
  - University IT is the authority on these networks; a site whose networks differ sets the
    role variables instead of relying on this list.
options:
  include_cloud:
    description: Include the University's cloud network (68.65.160.0/20).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Show the campus networks
  ansible.builtin.debug:
    msg: "{{ lookup('stanford.trusted_mail.campus_networks') }}"

- name: Use them as a default in a role
  ansible.builtin.set_fact:
    my_networks: "{{ query('stanford.trusted_mail.campus_networks', include_cloud=false) }}"
"""

RETURN = r"""
_raw:
  description: The networks, in CIDR notation.
  type: list
  elements: str
"""

from ansible.errors import AnsibleLookupError  # noqa: E402
from ansible.module_utils.parsing.convert_bool import boolean  # noqa: E402
from ansible.plugins.lookup import LookupBase  # noqa: E402

# "Stanford All Networks" (University IT firewall documentation).
ALL_NETWORKS = (
    "10.18.0.0/16", "10.20.0.0/16", "10.30.0.0/15", "10.32.0.0/12", "10.48.0.0/15",
    "10.96.0.0/11", "10.128.0.0/13", "10.143.0.0/16", "10.200.0.0/16", "10.223.224.0/21",
    "128.12.0.0/16", "171.64.0.0/14", "172.20.87.128/25", "172.20.128.0/17",
    "172.20.224.0/21", "172.24.0.0/14", "192.168.15.0/24", "204.63.224.0/21",
    "2607:f6d0::/32", "2620:6c:40c0::/48",
)
# The University's cloud network (University IT cloud network page).
CLOUD_NETWORKS = ("68.65.160.0/20",)


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        if terms:
            raise AnsibleLookupError("campus_networks takes no terms, only include_cloud=true|false")
        unknown = set(kwargs) - {"include_cloud"}
        if unknown:
            raise AnsibleLookupError("campus_networks: unknown option(s) %s" % ", ".join(sorted(unknown)))
        try:
            include_cloud = boolean(kwargs.get("include_cloud", True), strict=True)
        except TypeError as exc:
            raise AnsibleLookupError("campus_networks: include_cloud must be a boolean (%s)" % exc)
        networks = list(ALL_NETWORKS)
        if include_cloud:
            networks.extend(CLOUD_NETWORKS)
        return networks
