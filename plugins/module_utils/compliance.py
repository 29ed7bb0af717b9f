# -*- coding: utf-8 -*-
# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compliance record logic shared by the compliance role (through the filter plugin) and
the audit (scripts/tm-audit): administrator contacts (TM-03), waivers, and the status of
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
