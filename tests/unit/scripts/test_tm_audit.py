# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the audit command's report (scripts/tm-audit): statuses, waivers, outputs, schema."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import importlib.machinery
import io
import importlib.util
import json
import os
from xml.etree import ElementTree

import jsonschema
import pytest

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
_LOADER = importlib.machinery.SourceFileLoader('tm_audit', os.path.join(ROOT, 'scripts', 'tm-audit'))
_SPEC = importlib.util.spec_from_loader('tm_audit', _LOADER)
audit = importlib.util.module_from_spec(_SPEC)
_LOADER.exec_module(audit)

TODAY = datetime.date(2026, 11, 27)
CONTACTS = [{'name': 'Jane <Doe>', 'sunetid': 'jdoe', 'mobile': '+1 650 555 0100', 'available_24x7': True, 'role': 'administrator'}]
WAIVER = {'requirement': 'TM-02', 'reason': 'lab network', 'risk_analysis': 'ISO-RA-2026-17',
          'approved_by': 'ISO', 'approval_date': '2026-01-05', 'expires': '2027-01-04'}


@pytest.fixture(scope='module')
def catalog():
    return audit.load_catalog()


@pytest.fixture(scope='module')
def schema():
    with open(audit.SCHEMA, encoding='utf-8') as handle:
        return json.load(handle)


def results(**outcomes):
    """One check per requirement with the given outcome, e.g. TM_02='failed'."""
    return [{'check': 'molecule/checks/test_x.py::test_%s' % req.lower(), 'requirements': [req.replace('_', '-')],
             'outcome': outcome, 'message': 'saw %s' % outcome} for req, outcome in outcomes.items()]


def report(catalog, checks, waivers=(), contacts=CONTACTS, errors=()):
    return audit.build_host_report('mail1', catalog, checks, list(waivers), contacts, 'host record', TODAY, 'passive', list(errors))


def status(host, req):
    return [r for r in host['requirements'] if r['id'] == req][0]['status']


def test_catalog_is_the_documented_ids(catalog):
    assert ['TM-0%d' % i for i in range(1, 10)] == [r for r in catalog if r.startswith('TM-')]
    assert all(v.get('part_of') == 'TM-01' for k, v in catalog.items() if k.startswith('MS-'))


def test_unchecked_requirements_are_never_pass(catalog):
    host = report(catalog, results(TM_02='passed', TM_03='passed'))
    assert status(host, 'TM-02') == 'pass' and status(host, 'TM-06') == 'nocheck'
    assert status(host, 'TM-01') == 'nocheck' and status(host, 'MS-2FA') == 'nocheck'
    assert host['status'] == 'fail' and host['counts']['pass'] == 2


def test_all_pass_only_when_every_requirement_passes(catalog):
    host = report(catalog, results(**dict((r.replace('-', '_'), 'passed') for r in catalog)))
    assert host['status'] == 'pass' and host['counts'] == {'pass': len(catalog), 'fail': 0, 'waived': 0, 'nocheck': 0}


def test_waiver_relaxes_only_what_it_names(catalog):
    host = report(catalog, results(TM_02='failed', TM_03='failed'), [WAIVER])
    assert status(host, 'TM-02') == 'waived' and status(host, 'TM-03') == 'fail'
    row = [r for r in host['requirements'] if r['id'] == 'TM-02'][0]
    assert row['waivers'][0]['record']['approved_by'] == 'ISO'


@pytest.mark.parametrize('change, expected', [
    ({'expires': '2026-11-01'}, 'expired on 2026-11-01'),
    ({'approved_by': ''}, 'is not approved'),
])
def test_expired_or_unapproved_waiver_is_a_failure(catalog, change, expected):
    host = report(catalog, results(TM_02='failed'), [dict(WAIVER, **change)])
    row = [r for r in host['requirements'] if r['id'] == 'TM-02'][0]
    assert row['status'] == 'fail' and expected in row['summary']


def test_waiver_naming_an_unknown_requirement_fails_the_host(catalog):
    host = report(catalog, results(**dict((r.replace('-', '_'), 'passed') for r in catalog)), [dict(WAIVER, requirement='TM-10')])
    assert host['status'] == 'fail' and any('unknown requirement' in e for e in host['errors'])


def test_outputs_are_valid_and_escaped(catalog, schema, tmp_path):
    host = report(catalog, results(TM_02='failed', TM_03='passed', TM_05='error'), [WAIVER])
    run = audit.run_report([host], '/inv')
    jsonschema.validate(run, schema)
    audit.write_outputs(str(tmp_path), run)
    with open(str(tmp_path / 'report.json'), encoding='utf-8') as handle:
        jsonschema.validate(json.load(handle), schema)
    page = (tmp_path / 'report.html').read_text(encoding='utf-8')
    assert 'Jane &lt;Doe&gt;' in page and '<script' not in page and 'http' not in page.split('</style>')[0]
    assert 'WAIVED' in page and 'ISO-RA-2026-17' in page
    suites = ElementTree.parse(str(tmp_path / 'junit.xml')).getroot()
    suite = suites.find('testsuite')
    assert suite.get('name') == 'mail1' and int(suite.get('tests')) == len(catalog)
    failed = [c.get('name').split()[0] for c in suite.findall('testcase') if c.find('failure') is not None]
    assert 'TM-05' in failed and 'TM-02' not in failed and 'TM-03' not in failed and 'TM-06' in failed


def test_schema_rejects_a_bad_status(catalog, schema):
    run = audit.run_report([report(catalog, [])], None)
    run['hosts'][0]['requirements'][0]['status'] = 'ok'
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(run, schema)


def test_merge_combines_host_reports(catalog, tmp_path):
    for name in ('b', 'a'):
        host = report(catalog, [])
        host['host'] = name
        audit.write_outputs(str(tmp_path / 'hosts' / name), audit.run_report([host], None))
    run = audit.merge(str(tmp_path))
    assert [h['host'] for h in run['hosts']] == ['a', 'b'] and run['status'] == 'fail'
    assert (tmp_path / 'report.html').exists() and (tmp_path / 'junit.xml').exists()


RECORD = {'inventory': {'fqdn': 'mail1.dept.stanford.edu', 'addresses': ['171.64.10.25'],
                        'os': {'name': 'Debian', 'version': '12', 'release': 'bookworm'}, 'risk_level': 'moderate',
                        'review_date': '2026-07-01', 'review_max_days': 92},
          'training': {'max_days': 365, 'records': [{'name': 'Jane Doe', 'completed': '2025-10-01'}]},
          'location': {'kind': 'office', 'name': 'Room 120'}}
FACTS = {'fqdn': 'mail1.dept.stanford.edu', 'addresses': ['171.64.10.25'],
         'os': {'name': 'Debian GNU/Linux', 'version': '12', 'release': 'bookworm'}}


def test_process_facts_from_the_host_record():
    process = audit.process_report(RECORD, {}, FACTS, TODAY)
    assert process['source'].startswith('host record')
    inv = process['inventory']
    assert inv['review_date'] == '2026-07-01' and inv['review_age_days'] == 149 and inv['review_max_days'] == 92
    assert inv['os'] == 'Debian 12 (bookworm)' and inv['risk_level'] == 'moderate'
    text = ' '.join(process['problems'])
    assert 'last reviewed on 2026-07-01, 149 days ago' in text
    assert 'Jane Doe: last sysadmin training on 2025-10-01, 422 days ago' in text
    assert 'hardware is in an office (Room 120)' in text


def test_process_facts_from_the_inventory_when_the_host_has_no_record():
    hostvars = {'compliance_inventory_review_date': datetime.date(2026, 10, 1),
                'compliance_training': [{'name': 'Mail team', 'completed': '2026-05-12'}],
                'compliance_location': {'kind': 'datacenter', 'name': 'Forsythe'}}
    process = audit.process_report(None, hostvars, FACTS, TODAY, 'no record at /etc/trusted-mail/compliance-record.json')
    assert process['source'].startswith('inventory only (no record')
    assert process['inventory']['fqdn'] == 'mail1.dept.stanford.edu' and process['inventory']['risk_level'] == 'moderate'
    assert process['inventory']['review_age_days'] == 57 and process['problems'] == []
    nothing = audit.process_report(None, {}, None, TODAY, 'unreachable')
    assert nothing['source'] == 'none' and nothing['host_facts'] is None
    assert any('no inventory facts recorded' in p for p in nothing['problems'])
    assert any('no sysadmin training recorded' in p for p in nothing['problems'])


def test_process_facts_in_every_output(catalog, schema, tmp_path):
    host = audit.build_host_report('mail1', catalog, results(MS_INVENTORY='failed'), [], CONTACTS, 'host record', TODAY,
                                   'passive', [], audit.process_report(RECORD, {}, FACTS, TODAY))
    run = audit.run_report([host], '/inv')
    jsonschema.validate(run, schema)
    audit.write_outputs(str(tmp_path), run)
    page = (tmp_path / 'report.html').read_text(encoding='utf-8')
    for text in ('Server facts', '2026-07-01 (149 days ago; stale after 92)', 'office: Room 120',
                 'Jane Doe: 2025-10-01 (422 days ago), overdue', 'moderate', 'Debian GNU/Linux 12'):
        assert text in page, text
    suite = ElementTree.parse(str(tmp_path / 'junit.xml')).getroot().find('testsuite')
    props = dict((p.get('name'), p.get('value')) for p in suite.find('properties'))
    assert props['review_date'] == '2026-07-01' and props['location'] == 'office, Room 120'
    stream = io.StringIO()
    audit.print_summary(run, stream)
    out = stream.getvalue()
    assert 'inventory review: 2026-07-01, 149 days ago (stale after 92)' in out and 'location: office, Room 120' in out
    # the schema refuses a report without process facts
    del run['hosts'][0]['process']
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(run, schema)


def test_summary_prints_the_process_facts(catalog, tmp_path, capsys):
    """tests/harness/summary.py shows the process facts of an audit report."""
    loader = importlib.machinery.SourceFileLoader('tm_summary', os.path.join(ROOT, 'tests', 'harness', 'summary.py'))
    summary = importlib.util.module_from_spec(importlib.util.spec_from_loader('tm_summary', loader))
    loader.exec_module(summary)
    host = audit.build_host_report('mail1', catalog, results(MS_PHYSICAL='failed'), [], CONTACTS, 'host record', TODAY, 'passive', [],
                                   audit.process_report(RECORD, {}, FACTS, TODAY))
    path = tmp_path / 'report.json'
    path.write_text(json.dumps(audit.run_report([host], '/inv')), encoding='utf-8')
    assert summary.main(['summary.py', str(path)]) == 1
    out = capsys.readouterr().out
    for text in ('server: mail1.dept.stanford.edu; 171.64.10.25; Debian 12 (bookworm); risk level moderate',
                 'inventory review: 2026-07-01, 149 days ago (stale after 92)',
                 'training: Jane Doe, 2025-10-01, 422 days ago, OVERDUE', 'location: office, Room 120',
                 'fact problem: hardware is in an office'):
        assert text in out, out


def test_inventory_read_once_lists_every_matched_host_with_its_variables(tmp_path):
    """One ansible-inventory run: hosts of nested groups in order, each once, hosts without variables too."""
    inv = tmp_path / 'hosts.yml'
    inv.write_text('all:\n  children:\n    trusted_mail:\n      hosts:\n        b1:\n        a2:\n          x: 1\n'
                   '      children:\n        nested:\n          hosts:\n            c3:\n              y: 2\n            a2:\n'
                   '    other:\n      hosts:\n        d4:\n', encoding='utf-8')
    assert audit.read_inventory(str(inv), 'trusted_mail') == [('b1', {}), ('a2', {'x': 1}), ('c3', {'y': 2})]
    assert audit.read_inventory(str(inv), 'b1,d4') == [('b1', {}), ('d4', {})]
    assert audit.read_inventory(str(inv), 'nomatch') == []


def test_no_matching_host_is_a_usage_error(tmp_path, capsys):
    """A missing inventory, or a pattern that matches nothing: exit 2, nothing audited."""
    assert audit.main(['-q', '-i', str(tmp_path / 'missing.yml'), '-o', str(tmp_path / 'out')]) == 2
    assert 'no host matches' in capsys.readouterr().err
    assert not (tmp_path / 'out').exists()


@pytest.mark.parametrize('hostvars, backend, target', [
    ({'ansible_connection': 'containers.podman.podman', 'ansible_host': 'tm-x-mail'}, 'podman', 'tm-x-mail'),
    ({'ansible_connection': 'tm_podman'}, 'podman', 'mail1'),
    ({'ansible_connection': 'ssh', 'ansible_host': '192.0.2.10'}, 'ansible', 'mail1'),
    ({}, 'ansible', 'mail1'),
])
def test_a_host_is_reached_the_way_its_inventory_says(hostvars, backend, target):
    # tm-audit reaches hosts through the checks' own helper (molecule/nsenter_backend.host_for)
    host = audit._target('inventories/example/hosts.yml', 'mail1', hostvars)
    assert host.backend.NAME == backend
    if backend == 'podman':  # commands entered through nsenter, not podman exec
        assert type(host.backend).__name__ == 'NsenterBackend' and host.backend.name == target
    else:
        assert host.backend.host == target


def test_checks_are_told_the_settings_the_inventory_gives():
    """Settings a check would otherwise take at their role default: plain values only."""
    hostvars = {'baseline_ssh_port': 2222, 'maillog_auditor_group': 'iso-audit', 'access_review_file': '/srv/review.json',
                'compliance_record_path': "{{ site_dir }}/record.json", 'baseline_ssh_enabled': True, 'other': 'x'}
    assert audit.expectations(hostvars) == {'baseline_ssh_port': 2222, 'maillog_auditor_group': 'iso-audit',
                                            'access_review_file': '/srv/review.json'}
    assert audit.record_path(hostvars) == audit.RECORD
    assert audit.record_path({'compliance_record_path': '/srv/trusted-mail/record.json'}) == '/srv/trusted-mail/record.json'


@pytest.mark.parametrize('relay, expected', [
    ('[secure.stanford.edu]:25', {'securemail_relay': '[secure.stanford.edu]:25'}),
    ("{{ site_relay }}", {}),  # templated: cannot be read here, the check uses the host's record
    (None, {}),
])
def test_checks_are_told_the_relay_the_inventory_expects(monkeypatch, tmp_path, relay, expected):
    """TM-09's route check compares the host with the inventory's relay, not only with the host's own record."""
    seen = {}

    def fake_run(cmd, **kwargs):
        seen.update(kwargs['env'])

        class Done:
            returncode = 0
        return Done()

    monkeypatch.setattr(audit.subprocess, 'run', fake_run)
    hostvars = {'ansible_connection': 'ssh'} if relay is None else {'ansible_connection': 'ssh', 'securemail_relay': relay}
    audit.run_checks('inventories/example/hosts.yml', 'mail1', str(tmp_path), False, None, [], hostvars=hostvars)
    assert json.loads(seen['TM_AUDIT_EXPECT']) == expected
