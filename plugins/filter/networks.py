# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for network lists: validation, Postfix syntax, membership."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text


def _network(value):
    """Parse one CIDR strictly (host bits must be zero); raise ValueError otherwise."""
    text = to_text(value).strip()
    if text.startswith('['):  # accept Postfix's [v6]/len spelling too
        text = text.replace('[', '', 1).replace(']', '', 1)
    if '/' not in text:
        raise ValueError('%r has no prefix length (write it as address/length)' % to_text(value))
    return ipaddress.ip_network(text, strict=True)


def invalid_networks(networks, min_prefix_v4=0, min_prefix_v6=0):
    """Return '<entry>: <reason>' for every entry that is not a valid network in CIDR form,
    or that is wider than the minimum prefix lengths allow."""
    if not isinstance(networks, (list, tuple)):
        raise AnsibleFilterError('invalid_networks expects a list, got %s' % type(networks).__name__)
    limits = {}
    for version, limit, top in ((4, min_prefix_v4, 32), (6, min_prefix_v6, 128)):
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= top:
            raise AnsibleFilterError('invalid_networks: min_prefix_v%d must be a number from 0 to %d, got %r' % (version, top, limit))
        limits[version] = limit
    problems = []
    for entry in networks:
        try:
            net = _network(entry)
        except (ValueError, TypeError) as exc:
            problems.append('%s: %s' % (to_text(entry), to_text(exc)))
            continue
        if net.prefixlen < limits[net.version]:
            problems.append('%s: wider than /%d, the widest network allowed here for IPv%d'
                            % (to_text(entry), limits[net.version], net.version))
    return problems


def postfix_networks(networks):
    """Render CIDRs the way Postfix's mynetworks wants them ([2001:db8::]/32 for IPv6)."""
    rendered = []
    for entry in networks:
        try:
            net = _network(entry)
        except (ValueError, TypeError) as exc:
            raise AnsibleFilterError('postfix_networks: %s' % to_text(exc))
        if net.version == 6:
            rendered.append('[%s]/%d' % (net.network_address, net.prefixlen))
        else:
            rendered.append(str(net))
    return rendered


def in_networks(address, networks):
    """True when the address lies in at least one of the networks."""
    try:
        ip = ipaddress.ip_address(to_text(address).strip().strip('[]'))
    except ValueError as exc:
        raise AnsibleFilterError('in_networks: %s' % to_text(exc))
    for entry in networks:
        try:
            net = _network(entry)
        except (ValueError, TypeError) as exc:
            raise AnsibleFilterError('in_networks: %s' % to_text(exc))
        if ip.version == net.version and ip in net:
            return True
    return False


class FilterModule(object):
    """Network list filters."""

    def filters(self):
        return {
            'invalid_networks': invalid_networks,
            'postfix_networks': postfix_networks,
            'in_networks': in_networks,
        }
