# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the compliance filters and their shared logic (plugins/module_utils/compliance.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.stanford.trusted_mail.plugins.filter import compliance as cf
from ansible_collections.stanford.trusted_mail.plugins.module_utils import compliance as cm

KNOWN = ['TM-01', 'TM-02', 'TM-03', 'MS-2FA']
TODAY = datetime.date(2026, 11, 27)
ADMIN = {'name': 'Jane Doe', 'sunetid': 'jdoe', 'mobile': '+1 650 555 0100', 'available_24x7': True, 'role': 'primary administrator'}
BACKUP = {'name': 'Ray Roe', 'email': 'rroe@stanford.edu', 'available_24x7': False, 'role': 'backup administrator'}
WAIVER = {'requirement': 'TM-02', 'reason': 'lab network', 'risk_analysis': 'ISO-RA-2026-17',
          'approved_by': 'ISO', 'approval_date': '2026-01-05', 'expires': '2027-01-04'}


def test_good_contacts_pass():
    assert cf.contact_problems([ADMIN, BACKUP]) == []


@pytest.mark.parametrize('contacts, expected', [
    ([], 'no administrator contact'),
    ('jdoe', 'no administrator contact'),
    ([dict(ADMIN, name='')], 'has no name'),
    ([dict(ADMIN, sunetid='')], 'neither a SUNet ID nor an e-mail'),
    ([dict(ADMIN, sunetid='JDoe!')], 'is not 3 to 8 lower-case'),
    ([dict(ADMIN, email='jdoe-at-stanford')], 'is not an e-mail address'),
    ([dict(ADMIN, mobile='call me')], 'is not a phone number'),
    ([dict(ADMIN, mobile='555 0100')], 'is not a phone number'),
    ([dict(ADMIN, available_24x7='yes')], 'available_24x7 must be true or false'),
    ([dict(ADMIN, role=None)], 'has no role'),
    ([dict(ADMIN, available_24x7=False), BACKUP], 'no contact is available 24/7 with a mobile'),
    ([dict(ADMIN, mobile=None)], 'no contact is available 24/7 with a mobile'),
    ([ADMIN, 'x'], 'contact 2 is not a mapping'),
])
def test_bad_contacts_are_named(contacts, expected):
    problems = cf.contact_problems(contacts)
    assert any(expected in p for p in problems), problems


def test_valid_waiver():
    assert cf.waiver_problems([WAIVER], KNOWN) == []
    state = cf.waiver_states([WAIVER], KNOWN, '2026-11-27')[0]
    assert state['state'] == 'valid' and state['problems'] == []
    assert cf.waived_requirements([WAIVER], KNOWN, '2026-11-27') == ['TM-02']


def test_dates_may_be_date_objects():
    waiver = dict(WAIVER, approval_date=datetime.date(2026, 1, 5), expires=datetime.date(2027, 1, 4))
    state = cm.waiver_state(waiver, KNOWN, TODAY)
    assert state['state'] == 'valid' and state['record']['expires'] == '2027-01-04'


@pytest.mark.parametrize('change, state, expected', [
    ({'expires': '2026-11-26'}, 'expired', 'expired on 2026-11-26'),
    ({'approved_by': ''}, 'unapproved', 'is not approved'),
    ({'approval_date': None}, 'unapproved', 'is not approved'),
    ({'approval_date': '2026-12-01', 'expires': '2027-12-01'}, 'unapproved', 'is not approved'),
    ({'requirement': 'TM-99'}, 'invalid', 'names an unknown requirement'),
    ({'expires': None}, 'invalid', 'has no expiry'),
    ({'expires': 'next year'}, 'invalid', 'is not a date'),
    ({'expires': '2030-01-05'}, 'invalid', 'at most three years'),
    ({'expires': '2025-01-01'}, 'invalid', 'expires before it was approved'),
    ({'reason': ''}, 'invalid', 'has no reason'),
    ({'risk_analysis': ' '}, 'invalid', 'has no risk_analysis'),
    ({'scope': 'everything'}, 'invalid', 'unknown fields: scope'),
])
def test_waivers_that_do_not_count(change, state, expected):
    waiver = dict(WAIVER, **change)
    result = cm.waiver_state(waiver, KNOWN, TODAY)
    assert result['state'] == state and any(expected in p for p in result['problems']), result
    assert cm.waived_requirements([waiver], KNOWN, TODAY) == []


def test_expiry_day_itself_still_counts():
    assert cm.waived_requirements([dict(WAIVER, expires='2026-11-27')], KNOWN, TODAY) == ['TM-02']


def test_filters_need_lists_and_dates():
    with pytest.raises(AnsibleFilterError):
        cf.waiver_problems(WAIVER, KNOWN)
    with pytest.raises(AnsibleFilterError, match='YYYY-MM-DD'):
        cf.waived_requirements([WAIVER], KNOWN, 'today')


def test_addresses_outside():
    assert cf.addresses_outside(['171.64.10.25', '198.51.100.7', '2607:f6d0::25'], ['171.64.0.0/14', '2607:f6d0::/32']) == ['198.51.100.7']
    with pytest.raises(AnsibleFilterError):
        cf.addresses_outside('171.64.10.25', ['171.64.0.0/14'])


def _checks(*outcomes):
    return [{'check': 'c%d' % i, 'outcome': o} for i, o in enumerate(outcomes)]


def test_requirement_status():
    valid = cm.waiver_state(WAIVER, KNOWN, TODAY)
    expired = cm.waiver_state(dict(WAIVER, expires='2026-01-31'), KNOWN, TODAY)
    assert cm.requirement_status('TM-02', _checks('passed', 'passed'), [])[0] == 'pass'
    assert cm.requirement_status('TM-02', _checks('passed', 'failed'), []) == ('fail', '1 of 2 checks failed')
    assert cm.requirement_status('TM-02', _checks('error'), [])[0] == 'fail'
    assert cm.requirement_status('TM-02', _checks('failed'), [valid])[0] == 'waived'
    assert cm.requirement_status('TM-02', _checks('failed'), [expired])[0] == 'fail'
    # an expired waiver is a failure even where the checks pass
    assert cm.requirement_status('TM-02', _checks('passed'), [expired])[0] == 'fail'
    assert cm.requirement_status('TM-06', [], [])[0] == 'nocheck'
    assert cm.requirement_status('TM-06', _checks('skipped'), [])[0] == 'nocheck'
    assert cm.requirement_status('TM-06', [], [valid])[0] == 'waived'
    assert cm.requirement_status('TM-01', [], [], ['pass', 'nocheck'])[0] == 'nocheck'
    assert cm.requirement_status('TM-01', [], [], ['pass', 'fail'])[0] == 'fail'
    assert cm.requirement_status('TM-01', [], [], ['pass', 'waived'])[0] == 'pass'


# --- process facts (MS-INVENTORY, MS-TRAINING, MS-PHYSICAL) ----------------------

FACTS = {'review_date': '2026-10-01', 'training': [{'name': 'Jane Doe', 'completed': '2026-05-12'}],
         'location': {'kind': 'datacenter', 'name': 'Forsythe data center'}}
INVENTORY = {'fqdn': 'mail1.dept.stanford.edu', 'addresses': ['171.64.10.25'], 'os': {'name': 'Debian', 'version': '12'},
             'risk_level': 'moderate', 'review_date': '2026-10-01', 'review_max_days': 92}


def test_good_process_facts_pass():
    assert cf.process_fact_problems(FACTS, '2026-11-27') == []
    # dates may be date objects (unquoted YAML dates)
    facts = dict(FACTS, review_date=datetime.date(2026, 10, 1), training=[{'name': 'Mail team', 'completed': datetime.date(2026, 5, 12)}])
    assert cf.process_fact_problems(facts, '2026-11-27') == []


def test_stale_facts_are_not_input_problems():
    """Old dates and an office are findings for the audit, not reasons to refuse a run."""
    facts = dict(FACTS, review_date='2020-01-01', training=[{'name': 'Jane Doe', 'completed': '2019-01-01'}],
                 location={'kind': 'office', 'name': 'Room 120'})
    assert cf.process_fact_problems(facts, '2026-11-27') == []


@pytest.mark.parametrize('change, expected', [
    ({'review_date': None}, 'compliance_inventory_review_date is not set'),
    ({'review_date': 'last spring'}, "'last spring' is not a date"),
    ({'review_date': '2026-12-01'}, 'is in the future'),
    ({'training': []}, 'compliance_training is empty'),
    ({'training': [{'name': '', 'completed': '2026-05-12'}]}, 'entry 1 has no name'),
    ({'training': [{'name': 'Jane Doe', 'completed': '2026-13-01'}]}, 'Jane Doe completed'),
    ({'training': ['Jane Doe']}, 'is not a mapping'),
    ({'location': None}, 'compliance_location is not set'),
    ({'location': {'kind': 'basement', 'name': 'Gates'}}, "kind 'basement' is not one of"),
    ({'location': {'kind': 'cloud', 'name': ' '}}, 'has no name'),
])
def test_bad_process_facts_are_named(change, expected):
    problems = cf.process_fact_problems(dict(FACTS, **change), '2026-11-27')
    assert any(expected in p for p in problems), problems


def test_process_fact_problems_needs_a_mapping_and_a_date():
    with pytest.raises(AnsibleFilterError):
        cf.process_fact_problems([FACTS], '2026-11-27')
    with pytest.raises(AnsibleFilterError, match='YYYY-MM-DD'):
        cf.process_fact_problems(FACTS, 'today')


def test_review_age():
    assert cm.review_problems(INVENTORY, TODAY) == []
    # 92 days is still current, 93 is stale, with the date and the age
    assert cm.review_problems(dict(INVENTORY, review_date='2026-08-27'), TODAY) == []
    stale = cm.review_problems(dict(INVENTORY, review_date='2026-08-26'), TODAY)
    assert stale == ['inventory record last reviewed on 2026-08-26, 93 days ago: stale (reviewed at least every 92 days)']
    assert cm.review_problems(dict(INVENTORY, review_date='2026-08-26', review_max_days=100), TODAY) == []


@pytest.mark.parametrize('change, expected', [
    ({'review_date': None}, 'no date of the last inventory record review'),
    ({'review_date': '2027-01-01'}, 'is in the future'),
    ({'risk_level': None}, 'risk level None is not recorded'),
    ({'risk_level': 'high'}, 'needs the high-risk controls'),
    ({'fqdn': ''}, 'no fqdn recorded'),
    ({'addresses': []}, 'no addresses recorded'),
])
def test_review_problems(change, expected):
    problems = cm.review_problems(dict(INVENTORY, **change), TODAY)
    assert any(expected in p for p in problems), problems


def test_no_inventory_facts():
    assert 'no inventory facts recorded' in cm.review_problems(None, TODAY)[0]


def test_training_names_who_is_overdue():
    training = {'max_days': 365, 'records': [{'name': 'Jane Doe', 'completed': '2026-05-12'},
                                             {'name': 'Ray Roe', 'completed': '2025-11-26'},
                                             {'name': 'Mail team', 'completed': datetime.date(2025, 11, 27)}]}
    assert cm.training_problems(training, TODAY) == [
        'Ray Roe: last sysadmin training on 2025-11-26, 366 days ago (due every 365 days)']
    states = cm.training_states(training, TODAY)
    assert [s['current'] for s in states] == [True, False, True] and states[2]['completed'] == '2025-11-27'
    assert cm.training_problems({'records': []}, TODAY) == ['no sysadmin training recorded']
    assert cm.training_problems(None, TODAY) == ['no sysadmin training recorded']
    assert 'is not a date' in cm.training_problems({'records': [{'name': 'X', 'completed': 'soon'}]}, TODAY)[0]


def test_location():
    assert cm.location_problems({'kind': 'datacenter', 'name': 'Forsythe'}) == []
    assert cm.location_problems({'kind': 'cloud', 'name': 'AWS us-west-2 (University agreement)'}) == []
    assert cm.location_problems({'kind': 'office', 'name': 'Room 120'}) == [
        'hardware is in an office (Room 120), not in a data center or with an approved cloud provider']
    assert 'no hardware location recorded' in cm.location_problems(None)[0]
    assert 'no hardware location recorded' in cm.location_problems({'name': 'x'})[0]


def test_process_fact_findings_are_what_the_audit_reports():
    assert cf.process_fact_findings(FACTS, '2026-11-27') == []
    stale = dict(FACTS, review_date='2026-08-26', risk_level='high', training=[{'name': 'Ray Roe', 'completed': '2025-11-26'}],
                 location={'kind': 'office', 'name': 'Room 120'})
    assert cf.process_fact_findings(stale, '2026-11-27') == [
        'inventory record last reviewed on 2026-08-26, 93 days ago: stale (reviewed at least every 92 days)',
        'risk level high: this baseline implements the moderate-risk controls; a high-risk server needs the high-risk controls as well',
        'Ray Roe: last sysadmin training on 2025-11-26, 366 days ago (due every 365 days)',
        'hardware is in an office (Room 120), not in a data center or with an approved cloud provider']
    # the limits are the inputs' (a site may review monthly)
    assert cf.process_fact_findings(dict(FACTS, review_max_days=30), '2026-11-27')[0].startswith('inventory record last reviewed on 2026-10-01')
    assert cf.process_fact_findings(dict(stale, review_max_days=100, risk_level='moderate', training_max_days=400,
                                         location=FACTS['location']), '2026-11-27') == []
    with pytest.raises(AnsibleFilterError):
        cf.process_fact_findings([FACTS], '2026-11-27')


def test_limits_may_be_numeric_strings():
    assert cm.review_problems(dict(INVENTORY, review_date='2026-08-26', review_max_days='100'), TODAY) == []
    assert cm.training_states({'max_days': '400', 'records': [{'name': 'X', 'completed': '2025-11-01'}]}, TODAY)[0]['current']
    # nonsense falls back to the standard's limits
    assert cm.review_problems(dict(INVENTORY, review_date='2026-08-26', review_max_days='often'), TODAY)
    assert cm.training_states({'max_days': True, 'records': [{'name': 'X', 'completed': '2025-11-01'}]}, TODAY)[0]['max_days'] == 365
