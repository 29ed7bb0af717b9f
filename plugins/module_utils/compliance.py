# -*- coding: utf-8 -*-
# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compliance record logic shared by the compliance role (through the filter plugin) and
the audit (scripts/tm-audit): administrator contacts (TM-03), waivers, the process facts
(MS-INVENTORY review date and risk level, MS-TRAINING, MS-PHYSICAL), and the status of
each requirement from check results and waivers.

Plain Python (no Ansible imports), so the audit command can load it from a checkout or
from the installed collection without an Ansible run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

SUNETID = re.compile(r'^[a-z][a-z0-9]{2,7}$')
EMAIL = re.compile(r'^[^@\s]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$')
PHONE = re.compile(r'^\+?[0-9][0-9 ().-]*[0-9]$')
# MinSec exceptions are granted for at most three years.
MAX_WAIVER_DAYS = 3 * 366
WAIVER_FIELDS = ('requirement', 'reason', 'risk_analysis', 'approved_by', 'approval_date', 'expires')
STATUSES = ('pass', 'fail', 'waived', 'nocheck')
# MS-INVENTORY: the NetDB/inventory record is reviewed quarterly; older than this is stale.
REVIEW_MAX_DAYS = 92
# MS-TRAINING: sysadmin training is annual.
TRAINING_MAX_DAYS = 365
# The MinSec risk classification; this collection implements the moderate-risk controls,
# which cover low-risk servers too.
RISK_LEVELS = ('low', 'moderate', 'high')
BASELINE_RISK_LEVELS = ('low', 'moderate')
# MS-PHYSICAL: where the hardware is. A University data center or an approved cloud
# provider meets the control; an office (closet, lab, desk) does not.
LOCATION_KINDS = ('datacenter', 'cloud', 'office')
LOCATION_OK = ('datacenter', 'cloud')


def parse_date(value):
    """A date from a date object or a YYYY-MM-DD string; None when it is neither."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.datetime.strptime(str(value).strip(), '%Y-%m-%d').date()
    except (TypeError, ValueError):
        return None


def _text(value):
    return value.strip() if isinstance(value, str) else ''


def phone_ok(value):
    """A phone number written with digits, spaces, dots, dashes, parentheses and a leading +; 10 to 15 digits."""
    text = _text(value)
    digits = re.sub(r'[^0-9]', '', text)
    return bool(PHONE.match(text)) and 10 <= len(digits) <= 15


def contact_problems(contacts):
    """Everything wrong with the administrator contacts (TM-03), one sentence each; [] when they are fine."""
    if not isinstance(contacts, (list, tuple)) or not contacts:
        return ['no administrator contact is recorded (compliance_contacts is empty)']
    problems = []
    for index, contact in enumerate(contacts, 1):
        if not isinstance(contact, dict):
            problems.append('contact %d is not a mapping' % index)
            continue
        who = _text(contact.get('name')) or 'contact %d' % index
        if not _text(contact.get('name')):
            problems.append('%s has no name' % who)
        sunetid, email = _text(contact.get('sunetid')), _text(contact.get('email'))
        if not sunetid and not email:
            problems.append('%s has neither a SUNet ID nor an e-mail address' % who)
        if sunetid and not SUNETID.match(sunetid):
            problems.append('%s: SUNet ID %r is not 3 to 8 lower-case letters and digits starting with a letter' % (who, sunetid))
        if email and not EMAIL.match(email):
            problems.append('%s: %r is not an e-mail address' % (who, email))
        if contact.get('mobile') not in (None, '') and not phone_ok(contact.get('mobile')):
            problems.append('%s: mobile %r is not a phone number (10 to 15 digits, e.g. +1 650 555 0100)' % (who, contact.get('mobile')))
        if not isinstance(contact.get('available_24x7'), bool):
            problems.append('%s: available_24x7 must be true or false' % who)
        if not _text(contact.get('role')):
            problems.append('%s has no role (e.g. primary administrator)' % who)
    if not problems and not any(c.get('available_24x7') is True and phone_ok(c.get('mobile')) for c in contacts):
        problems.append('no contact is available 24/7 with a mobile number (at least one must be)')
    return problems


def waiver_problems(waiver, known_ids):
    """Structural problems of one waiver record (bad input the role refuses before any change)."""
    if not isinstance(waiver, dict):
        return ['a waiver is not a mapping: %r' % (waiver,)]
    req = _text(waiver.get('requirement')) or '?'
    problems = []
    if req not in known_ids:
        problems.append('waiver for %s names an unknown requirement (known: %s)' % (req, ', '.join(sorted(known_ids))))
    for field in ('reason', 'risk_analysis'):
        if not _text(waiver.get(field)):
            problems.append('waiver for %s has no %s' % (req, field))
    expires = waiver.get('expires')
    if expires in (None, ''):
        problems.append('waiver for %s has no expiry (expires: YYYY-MM-DD); waivers are time-limited' % req)
    elif parse_date(expires) is None:
        problems.append('waiver for %s: expires %r is not a date (YYYY-MM-DD)' % (req, expires))
    approved = waiver.get('approval_date')
    if approved not in (None, '') and parse_date(approved) is None:
        problems.append('waiver for %s: approval_date %r is not a date (YYYY-MM-DD)' % (req, approved))
    if parse_date(approved) and parse_date(expires):
        days = (parse_date(expires) - parse_date(approved)).days
        if days < 0:
            problems.append('waiver for %s expires before it was approved' % req)
        elif days > MAX_WAIVER_DAYS:
            problems.append('waiver for %s runs %d days; an exception lasts at most three years' % (req, days))
    unknown = sorted(set(waiver) - set(WAIVER_FIELDS))
    if unknown:
        problems.append('waiver for %s has unknown fields: %s' % (req, ', '.join(unknown)))
    return problems


def waiver_state(waiver, known_ids, today):
    """The state of one waiver on ``today``: valid, expired, unapproved or invalid, with the reasons."""
    problems = waiver_problems(waiver, known_ids)
    record = dict((k, str(v) if isinstance(v, (datetime.date, datetime.datetime)) else v)
                  for k, v in (waiver.items() if isinstance(waiver, dict) else []))
    req = _text(record.get('requirement')) or '?'
    if problems:
        return {'requirement': req, 'state': 'invalid', 'problems': problems, 'record': record}
    approved = parse_date(record.get('approval_date'))
    if not _text(record.get('approved_by')) or approved is None or approved > today:
        return {'requirement': req, 'state': 'unapproved', 'record': record,
                'problems': ['waiver for %s is not approved (approved_by and a past approval_date are required)' % req]}
    expires = parse_date(record.get('expires'))
    if expires < today:
        return {'requirement': req, 'state': 'expired', 'record': record,
                'problems': ['waiver for %s expired on %s' % (req, expires.isoformat())]}
    return {'requirement': req, 'state': 'valid', 'problems': [], 'record': record}


def waived_requirements(waivers, known_ids, today):
    """IDs covered by a valid waiver on ``today``."""
    return sorted(set(s['requirement'] for s in (waiver_state(w, known_ids, today) for w in waivers or [])
                      if s['state'] == 'valid'))


def requirement_status(req_id, checks, waivers, children_status=None):
    """Status of one requirement.

    ``checks``: results (dicts with ``outcome``) of the checks that carry its ID;
    ``waivers``: waiver states (waiver_state) naming it; ``children_status``: statuses of
    the requirements it is made of (TM-01 is the MS-* controls).
    A waiver relaxes only the requirement it names; an expired, unapproved or invalid
    waiver is a failure of that requirement.
    """
    ran = [c for c in checks if c.get('outcome') != 'skipped']
    failed = [c for c in ran if c.get('outcome') != 'passed']
    valid = [w for w in waivers if w['state'] == 'valid']
    broken = [w for w in waivers if w['state'] != 'valid']
    if broken:
        return 'fail', '; '.join(p for w in broken for p in w['problems'])
    children = list(children_status or [])
    child_gaps = [c for c in children if c not in ('pass', 'waived')]
    if failed or child_gaps:
        if valid:
            return 'waived', 'not met, waived until %s' % valid[0]['record'].get('expires')
        if failed:
            return 'fail', '%d of %d checks failed' % (len(failed), len(ran))
        return ('fail' if 'fail' in child_gaps else 'nocheck'), 'parts not met: %d of %d' % (len(child_gaps), len(children))
    if not ran and not children:
        if valid:
            return 'waived', 'no check; waived until %s' % valid[0]['record'].get('expires')
        return 'nocheck', 'no check exists for %s yet: not proven' % req_id
    if children:
        return 'pass', 'all %d parts pass' % len(children)
    return 'pass', '%d of %d checks passed' % (len(ran), len(ran))


# --- process facts (MS-INVENTORY, MS-TRAINING, MS-PHYSICAL) -------------------------


def age_days(value, today):
    """Days from the date ``value`` to ``today``; None when ``value`` is not a date."""
    day = parse_date(value)
    return None if day is None else (today - day).days


def _limit(value, default):
    """A positive number of days from an int or a numeric string; ``default`` otherwise."""
    if isinstance(value, bool):
        return default
    try:
        days = int(value)
    except (TypeError, ValueError):
        return default
    return days if days >= 1 else default


def _date_input_problem(label, value, today):
    if value in (None, ''):
        return '%s is not set (YYYY-MM-DD)' % label
    day = parse_date(value)
    if day is None:
        return '%s %r is not a date (YYYY-MM-DD)' % (label, value)
    if day > today:
        return '%s %s is in the future' % (label, day.isoformat())
    return None


def process_input_problems(review_date, training, location, today):
    """Format problems of the process facts, for the pre-flight: missing or malformed
    dates, dates in the future, nobody's training, no location.

    Age is not a problem here: a stale review or an expired training is a finding the
    audit reports (review_problems, training_problems), not a reason to refuse a run.
    """
    problems = []
    problem = _date_input_problem('compliance_inventory_review_date', review_date, today)
    if problem:
        problems.append(problem)
    if not isinstance(training, (list, tuple)) or not training:
        problems.append('compliance_training is empty: record the last annual sysadmin training of each administrator (or the team)')
    else:
        for index, entry in enumerate(training, 1):
            if not isinstance(entry, dict):
                problems.append('compliance_training entry %d is not a mapping' % index)
                continue
            who = _text(entry.get('name'))
            if not who:
                problems.append('compliance_training entry %d has no name' % index)
            problem = _date_input_problem('compliance_training: %s completed' % (who or 'entry %d' % index),
                                          entry.get('completed'), today)
            if problem:
                problems.append(problem)
    if not isinstance(location, dict):
        problems.append('compliance_location is not set: kind (%s) and name of the place the hardware is in'
                        % ', '.join(LOCATION_KINDS))
    else:
        if location.get('kind') not in LOCATION_KINDS:
            problems.append('compliance_location kind %r is not one of %s' % (location.get('kind'), ', '.join(LOCATION_KINDS)))
        if not _text(location.get('name')):
            problems.append('compliance_location has no name (e.g. the data center or the cloud provider)')
    return problems


def review_problems(inventory, today, with_facts=True):
    """MS-INVENTORY findings in the record's ``inventory`` part: review date missing or
    older than its limit (with date and age), risk level missing or outside the baseline,
    and (``with_facts``) FQDN, addresses or OS not recorded."""
    if not isinstance(inventory, dict):
        return ['no inventory facts recorded (review date, risk level, FQDN, addresses, OS)']
    problems = []
    limit = _limit(inventory.get('review_max_days'), REVIEW_MAX_DAYS)
    age = age_days(inventory.get('review_date'), today)
    if age is None:
        problems.append('no date of the last inventory record review recorded (review_date %r)' % (inventory.get('review_date'),))
    elif age < 0:
        problems.append('inventory review date %s is in the future' % inventory.get('review_date'))
    elif age > limit:
        problems.append('inventory record last reviewed on %s, %d days ago: stale (reviewed at least every %d days)'
                        % (parse_date(inventory.get('review_date')).isoformat(), age, limit))
    risk = inventory.get('risk_level')
    if risk not in RISK_LEVELS:
        problems.append('risk level %r is not recorded as one of %s' % (risk, ', '.join(RISK_LEVELS)))
    elif risk not in BASELINE_RISK_LEVELS:
        problems.append('risk level %s: this baseline implements the moderate-risk controls; a high-risk server '
                        'needs the high-risk controls as well' % risk)
    for fact in ('fqdn', 'addresses', 'os') if with_facts else ():
        if not inventory.get(fact):
            problems.append('no %s recorded' % fact)
    return problems


def training_states(training, today):
    """Each recorded training with its age and whether it is current, from the record's ``training`` part."""
    training = training if isinstance(training, dict) else {}
    limit = _limit(training.get('max_days'), TRAINING_MAX_DAYS)
    states = []
    for entry in training.get('records') or []:
        entry = entry if isinstance(entry, dict) else {}
        age = age_days(entry.get('completed'), today)
        day = parse_date(entry.get('completed'))
        states.append({'name': _text(entry.get('name')) or '?', 'completed': day.isoformat() if day else str(entry.get('completed')),
                       'age_days': age, 'current': age is not None and 0 <= age <= limit, 'max_days': limit})
    return states


def training_problems(training, today):
    """MS-TRAINING findings: nobody's training recorded, or whose is older than a year (naming who)."""
    states = training_states(training, today)
    if not states:
        return ['no sysadmin training recorded']
    problems = []
    for state in states:
        if state['age_days'] is None:
            problems.append('%s: training date %r is not a date' % (state['name'], state['completed']))
        elif state['age_days'] < 0:
            problems.append('%s: training date %s is in the future' % (state['name'], state['completed']))
        elif not state['current']:
            problems.append('%s: last sysadmin training on %s, %d days ago (due every %d days)'
                            % (state['name'], state['completed'], state['age_days'], state['max_days']))
    return problems


def location_problems(location):
    """MS-PHYSICAL findings: no location recorded, or hardware outside a data center / approved cloud."""
    if not isinstance(location, dict) or not location.get('kind'):
        return ['no hardware location recorded (kind: %s)' % ', '.join(LOCATION_KINDS)]
    kind, name = location.get('kind'), _text(location.get('name'))
    problems = []
    if kind not in LOCATION_OK:
        problems.append('hardware is in %s%s, not in a data center or with an approved cloud provider' % (
            {'office': 'an office'}.get(kind, repr(kind)), (' (%s)' % name) if name else ''))
    if not name:
        problems.append('the hardware location has no name')
    return problems
