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


def process_fact_problems(facts, today):
    """Format problems of the process facts (MS-INVENTORY review date, MS-TRAINING, MS-PHYSICAL) on a day.

    ``facts``: a mapping with ``review_date``, ``training`` and ``location`` as in the
    compliance role's inputs. Stale dates are not problems here (the audit reports them).
    """
    if not isinstance(facts, dict):
        raise AnsibleFilterError('process_fact_problems expects a mapping (review_date, training, location), got %s'
                                 % type(facts).__name__)
    return cm.process_input_problems(facts.get('review_date'), facts.get('training'), facts.get('location'), _day(today))


def process_fact_findings(facts, today):
    """What the audit will report about the process facts on a day: a stale inventory review,
    overdue training (naming who), hardware outside a data center, a risk level the baseline
    does not cover. The pre-flight shows them; it does not refuse them.

    ``facts``: ``review_date``, ``review_max_days``, ``risk_level``, ``training``,
    ``training_max_days`` and ``location``, as in the compliance role's inputs.
    """
    if not isinstance(facts, dict):
        raise AnsibleFilterError('process_fact_findings expects a mapping, got %s' % type(facts).__name__)
    day = _day(today)
    inventory = {'review_date': facts.get('review_date'), 'risk_level': facts.get('risk_level', 'moderate'),
                 'review_max_days': facts.get('review_max_days', cm.REVIEW_MAX_DAYS)}
    training = {'max_days': facts.get('training_max_days', cm.TRAINING_MAX_DAYS), 'records': facts.get('training') or []}
    return (cm.review_problems(inventory, day, with_facts=False) + cm.training_problems(training, day)
            + cm.location_problems(facts.get('location')))


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
            'process_fact_findings': process_fact_findings,
            'process_fact_problems': process_fact_problems,
            'waiver_problems': waiver_problems,
            'waiver_states': waiver_states,
            'waived_requirements': waived_requirements,
        }
