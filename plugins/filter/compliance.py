# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the compliance record: contact and waiver validation, waived requirements."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.stanford.trusted_mail.plugins.module_utils import compliance as cm


def _day(today):
    day = cm.parse_date(today)
    if day is None:
        raise AnsibleFilterError('expected a date as YYYY-MM-DD, got %r' % (today,))
    return day


def contact_problems(contacts):
    """Problems with the administrator contacts (TM-03), one sentence each."""
    return cm.contact_problems(contacts)


def waiver_problems(waivers, known_ids):
    """Structural problems of a list of waiver records (unknown ID, no expiry, bad dates, ...)."""
    if not isinstance(waivers, (list, tuple)):
        raise AnsibleFilterError('waiver_problems expects a list of waivers, got %s' % type(waivers).__name__)
    return [p for w in waivers for p in cm.waiver_problems(w, list(known_ids))]


def waiver_states(waivers, known_ids, today):
    """Each waiver's state on a day: valid, expired, unapproved or invalid, with reasons and the record."""
    if not isinstance(waivers, (list, tuple)):
        raise AnsibleFilterError('waiver_states expects a list of waivers, got %s' % type(waivers).__name__)
    return [cm.waiver_state(w, list(known_ids), _day(today)) for w in waivers]


def waived_requirements(waivers, known_ids, today):
    """The requirement IDs that a valid (approved, unexpired, well-formed) waiver covers on a day."""
    return cm.waived_requirements(waivers, list(known_ids), _day(today))


def addresses_outside(addresses, networks):
    """The addresses that lie in none of the networks (TM-02)."""
    from ansible_collections.stanford.trusted_mail.plugins.filter.networks import in_networks
    if not isinstance(addresses, (list, tuple)):
        raise AnsibleFilterError('addresses_outside expects a list of addresses, got %s' % type(addresses).__name__)
    return [a for a in addresses if not in_networks(a, networks)]


class FilterModule(object):
    """Compliance record filters."""

    def filters(self):
        return {
            'addresses_outside': addresses_outside,
            'contact_problems': contact_problems,
            'waiver_problems': waiver_problems,
            'waiver_states': waiver_states,
            'waived_requirements': waived_requirements,
        }
