# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of roles/baseline/files/patch-status: MinSec's deadlines over successive reports.

apt's plan, the release and the clock are replaced; the report is written to and read back
from a real state file, as the daily timer does. Against a real apt (a local repository with
a -security origin) it runs in the baseline scenario.
"""

import json
import os

import pytest
from script_module import load_script

DAY = 86400
T0 = 1_800_000_000

ps = load_script('patch_status', 'roles', 'baseline', 'files', 'patch-status')


def update(name, security, candidate='2'):
    return {'package': name, 'installed': '1', 'candidate': candidate, 'origins': 'x', 'security': security}


class Host:
    """Runs main() at a given time against a plan of pending updates."""

    def __init__(self, tmp_path, monkeypatch):
        self.state = tmp_path / 'patch-status.json'
        self.flag = tmp_path / 'reboot-required'
        self.monkeypatch = monkeypatch
        monkeypatch.setattr(ps, 'os_release', lambda: {'ID': 'debian', 'VERSION_ID': '12'})
        monkeypatch.setattr(ps, 'REBOOT_FLAG', str(self.flag))
        monkeypatch.setattr(ps, 'boot_time', lambda: T0 - DAY)
        real_listdir = os.listdir
        monkeypatch.setattr(ps.os, 'listdir', lambda path: [] if path == '/var/lib/apt/lists' else real_listdir(path))

    def report(self, when, updates):
        self.monkeypatch.setattr(ps, 'pending_updates', lambda: [dict(u) for u in updates])
        self.monkeypatch.setattr(ps.time, 'time', lambda: when)
        ps.main(['--state', str(self.state)])
        return json.loads(self.state.read_text())


@pytest.fixture
def host(tmp_path, monkeypatch, capsys):
    yield Host(tmp_path, monkeypatch)
    capsys.readouterr()


def test_first_report_starts_every_clock_now(host):
    report = host.report(T0, [update('openssl', True), update('tzdata', False)])
    assert [u['first_seen'] for u in report['security_updates'] + report['other_updates']] == [T0, T0]
    assert report['overdue'] == [] and report['reboot_overdue'] is False


def test_security_update_is_overdue_after_seven_days_others_after_ninety(host):
    pending = [update('openssl', True), update('tzdata', False)]
    host.report(T0, pending)
    assert host.report(T0 + 7 * DAY, pending)['overdue'] == []
    eight = host.report(T0 + 8 * DAY, pending)
    assert eight['overdue'] == [{'package': 'openssl', 'security': True, 'days_pending': 8, 'deadline_days': 7}]
    assert eight['security_updates'][0]['first_seen'] == T0
    late = host.report(T0 + 91 * DAY, pending)
    assert [o['package'] for o in late['overdue']] == ['openssl', 'tzdata']


def test_a_newer_candidate_keeps_the_clock_and_an_installed_update_stops_it(host):
    host.report(T0, [update('openssl', True, '2')])
    newer = host.report(T0 + 8 * DAY, [update('openssl', True, '3')])
    assert [o['package'] for o in newer['overdue']] == ['openssl']
    host.report(T0 + 9 * DAY, [])
    again = host.report(T0 + 10 * DAY, [update('openssl', True, '4')])
    assert again['security_updates'][0]['first_seen'] == T0 + 10 * DAY and again['overdue'] == []


def test_an_unreadable_previous_report_starts_over(host):
    host.state.write_text('{not json')
    assert host.report(T0, [update('openssl', True)])['security_updates'][0]['first_seen'] == T0


def test_reboot_pending_for_more_than_seven_days_in_one_boot(host):
    host.flag.write_text('*** System restart required ***\n')
    os.utime(host.flag, (T0, T0))
    assert host.report(T0 + DAY, [])['reboot_required_since'] == T0
    # a later update that needs a reboot writes the flag again: the clock keeps running
    os.utime(host.flag, (T0 + 5 * DAY, T0 + 5 * DAY))
    report = host.report(T0 + 8 * DAY, [])
    assert report['reboot_required_since'] == T0 and report['reboot_overdue'] is True
    host.flag.unlink()
    assert host.report(T0 + 9 * DAY, [])['reboot_overdue'] is False


def test_a_reboot_flag_from_after_the_last_boot_starts_its_own_clock():
    old = {'reboot_required_since': T0}
    assert ps.reboot_pending_since(old, T0 + 20 * DAY, booted=T0 + 10 * DAY) == T0 + 20 * DAY
    assert ps.reboot_pending_since(old, T0 + 20 * DAY, booted=T0 - DAY) == T0
    assert ps.reboot_pending_since(old, None, booted=0) is None


def test_a_security_update_does_not_inherit_the_clock_of_an_ordinary_one(host):
    host.report(T0, [update('openssl', False)])
    report = host.report(T0 + 30 * DAY, [update('openssl', True, '3')])
    assert report['security_updates'][0]['first_seen'] == T0 + 30 * DAY and report['overdue'] == []


def test_a_first_seen_that_is_not_a_number_is_ignored(host):
    host.state.write_text(json.dumps({'security_updates': [{'package': 'openssl', 'first_seen': True}]}))
    assert host.report(T0, [update('openssl', True)])['security_updates'][0]['first_seen'] == T0
