"""The table of invalid inventories: one case per way a role input can be wrong.

Generated from every role's ``meta/argument_specs.yml`` (entry point ``main``), for every
option and sub-option:

* ``type``      a value of the wrong type (a mapping where text is wanted, text where a
                number, a yes/no, a list or a mapping is wanted)
* ``choice``    a value outside ``choices``
* ``missing``   a required option left out
* ``element``   a list whose element has the wrong type

plus ``semantic`` cases: values of the right type that the roles' pre-flights
(``tasks/preflight.yml``) must refuse because the argument spec cannot say it.

A case is ``(case_id, role, variable, overrides, removed, names)``: ``overrides`` are set
on top of the scenario's valid inventory, ``removed`` are top-level variables left out,
and ``names`` are the words the error must contain (the variable, and the sub-option).
"""

import copy
import os
import re

import yaml

# The order playbooks/site.yml checks the roles in.
ROLES = ["compliance", "access", "mta", "antivirus", "securemail", "maillog", "baseline"]

# A value of the wrong type for each argument-spec type.
WRONG_TYPE = {
    "str": {"tm": "a mapping, not text"},
    "path": {"tm": "a mapping, not a path"},
    "int": "not-a-number",
    "bool": "perhaps",
    "list": {"tm": "a mapping, not a list"},
    "dict": "not-a-mapping",
    "raw": {"tm": "a mapping, not a date"},
}
WRONG_ELEMENT = {"str": {"tm": "a mapping, not text"}, "path": {"tm": "a mapping, not a path"},
                 "int": "not-a-number", "dict": "not-a-mapping"}

# A valid value for options whose sub-options are tested when the inventory leaves them
# empty, and what must be switched on for the option to be read at all.
# A public key (an example administrator's; no private key is kept anywhere).
ADMIN_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIP5CQlcStwGobnTYq94a7j0ITOQ8T6woDS7C0GERYsAL jdoe@example"
VALID_EXAMPLES = {
    "compliance_contacts": [{"name": "Jane Doe", "sunetid": "jdoe", "email": "jdoe@stanford.edu",
                             "mobile": "+1 650 555 0100", "available_24x7": True, "role": "primary administrator"}],
    "compliance_training": [{"name": "Mail team", "completed": "2026-06-01", "course": "Sysadmin security"}],
    "compliance_location": {"kind": "datacenter", "name": "Forsythe data center"},
    "access_admin_users": [{"name": "jdoe", "authorized_keys": [ADMIN_KEY], "totp_secret": "JBSWY3DPEHPK3PXPJBSWY3DP"}],
    "compliance_waivers": [{"requirement": "TM-02", "reason": "Lab network", "risk_analysis": "ISO-1234",
                            "approved_by": "ISO", "approval_date": "2026-01-05", "expires": "2027-01-05"}],
    "access_mfa_exempt_users": [{"name": "ansible", "addresses": ["172.24.77.21/32"]}],
    "mta_sasl_users": [{"name": "app", "password_hash": "$6$salt$" + "a" * 86}],
    "securemail_tls_policy": [{"destination": "[smtp.stanford.edu]:25", "level": "secure"}],
    "baseline_firewall_extra_rules": [{"name": "web", "port": 443, "sources": ["171.64.0.0/14"]}],
    "baseline_listen_allowlist_extra": [{"name": "exporter", "port": 9100, "processes": ["node_exporter"]}],
    "maillog_component_logs": [{"path": "/var/log/clamav/clamav.log", "owner": "clamav", "postrotate": ""}],
}
_DUO = {"access_mfa_method": "duo", "access_duo_ikey": "DIXXXXXXXXXXXXXXXXXX", "access_duo_skey": "x" * 40,
        "access_duo_host": "api-xxxxxxxx.duosecurity.com"}
CONTEXT = {
    "mta_sasl_users": {"mta_sasl_enabled": True},
    "access_duo_package": _DUO,
    "access_duo_pam_module": _DUO,
    "access_duo_ikey": _DUO,
    "access_duo_skey": _DUO,
    "access_duo_host": _DUO,
    "access_duo_failmode": _DUO,
}

# Values of the right type that only the pre-flights can refuse:
# (variable, kind suffix, overrides, words the error must contain).
SEMANTIC = {
    "compliance": [
        ("compliance_contacts", "empty", {"compliance_contacts": []}, ["compliance_contacts"]),
        ("compliance_contacts", "none-24x7", {"compliance_contacts": [
            {"name": "Jane Doe", "sunetid": "jdoe", "mobile": "+1 650 555 0100", "available_24x7": False, "role": "primary"}]},
            ["compliance_contacts", "24"]),
        ("compliance_contacts", "bad-mobile", {"compliance_contacts": [
            {"name": "Jane Doe", "sunetid": "jdoe", "mobile": "call me", "available_24x7": True, "role": "primary"}]},
            ["compliance_contacts", "mobile"]),
        ("compliance_contacts", "bad-sunetid", {"compliance_contacts": [
            {"name": "Jane Doe", "sunetid": "Jane Doe!", "mobile": "+1 650 555 0100", "available_24x7": True, "role": "primary"}]},
            ["compliance_contacts", "SUNet ID"]),
        ("compliance_waivers", "unknown-requirement", {"compliance_waivers": [
            dict(VALID_EXAMPLES["compliance_waivers"][0], requirement="TM-99")]}, ["compliance_waivers", "TM-99"]),
        ("compliance_waivers", "over-three-years", {"compliance_waivers": [
            dict(VALID_EXAMPLES["compliance_waivers"][0], expires="2030-01-06")]}, ["compliance_waivers", "three years"]),
        ("compliance_waivers", "bad-date", {"compliance_waivers": [
            dict(VALID_EXAMPLES["compliance_waivers"][0], expires="2027-02-30")]}, ["compliance_waivers", "2027-02-30"]),
        ("compliance_inventory_review_date", "future", {"compliance_inventory_review_date": "2099-01-01"},
         ["compliance_inventory_review_date"]),
        ("compliance_inventory_review_date", "bad-date", {"compliance_inventory_review_date": "2026-13-01"},
         ["compliance_inventory_review_date"]),
        ("compliance_inventory_review_max_days", "zero", {"compliance_inventory_review_max_days": 0},
         ["compliance_inventory_review_max_days"]),
        ("compliance_training", "empty", {"compliance_training": []}, ["compliance_training"]),
        ("compliance_training", "future", {"compliance_training": [{"name": "Mail team", "completed": "2099-01-01"}]},
         ["compliance_training"]),
        ("compliance_training_max_days", "zero", {"compliance_training_max_days": 0}, ["compliance_training_max_days"]),
        ("compliance_campus_networks", "empty", {"compliance_campus_networks": []}, ["compliance_campus_networks"]),
        ("compliance_campus_networks", "host-bits", {"compliance_campus_networks": ["171.64.1.1/14"]},
         ["compliance_campus_networks"]),
        ("compliance_mail_addresses", "off-campus", {"compliance_mail_addresses": ["198.51.100.20"]},
         ["compliance_mail_addresses", "198.51.100.20"]),
        ("compliance_mail_addresses", "empty", {"compliance_mail_addresses": []}, ["compliance_mail_addresses"]),
    ],
    "access": [
        ("access_admin_users", "empty", {"access_admin_users": []}, ["access_admin_users"]),
        ("access_admin_users", "bad-name", {"access_admin_users": [{"name": "Bad Name!", "authorized_keys": [
            ADMIN_KEY],
            "totp_secret": "JBSWY3DPEHPK3PXPJBSWY3DP"}]}, ["access_admin_users", "Bad Name!"]),
        ("access_admin_users", "not-a-key", {"access_admin_users": [{"name": "jdoe", "authorized_keys": ["my key"],
                                                                      "totp_secret": "JBSWY3DPEHPK3PXPJBSWY3DP"}]},
         ["access_admin_users", "my key"]),
        ("access_admin_users", "no-totp-secret", {"access_admin_users": [{"name": "jdoe", "authorized_keys": [
            ADMIN_KEY]}]},
         ["totp_secret", "jdoe"]),
        ("access_admin_users", "bad-totp-secret", {"access_admin_users": [{"name": "jdoe", "authorized_keys": [
            ADMIN_KEY],
            "totp_secret": "not base32 at all!"}]}, ["totp_secret", "jdoe"]),
        ("access_totp_window_size", "too-large", {"access_totp_window_size": 18}, ["access_totp_window_size"]),
        ("access_totp_rate_limit", "three-numbers", {"access_totp_rate_limit": [3, 30, 60]}, ["access_totp_rate_limit"]),
        ("access_totp_rate_limit", "short-period", {"access_totp_rate_limit": [3, 5]}, ["access_totp_rate_limit"]),
        ("access_mfa_exempt_users", "no-addresses", {"access_mfa_exempt_users": [{"name": "ansible", "addresses": []}]},
         ["access_mfa_exempt_users"]),
        ("access_mfa_exempt_users", "bad-address", {"access_mfa_exempt_users": [{"name": "ansible", "addresses": ["somewhere"]}]},
         ["access_mfa_exempt_users", "somewhere"]),
        ("access_mfa_exempt_users", "everywhere", {"access_mfa_exempt_users": [{"name": "ansible", "addresses": ["::/0"]}]},
         ["access_mfa_exempt_users", "::/0: wider than /48"]),
        ("access_duo_ikey", "duo-without-keys", {"access_mfa_method": "duo"}, ["access_duo_ikey"]),
        ("access_duo_host", "bad-host", {"access_mfa_method": "duo", "access_duo_ikey": "DIXXXXXXXXXXXXXXXXXX",
                                         "access_duo_skey": "x" * 40, "access_duo_host": "api host"}, ["access_duo_host"]),
        ("access_review_last_reviewed", "bad-date", {"access_review_last_reviewed": "last spring"},
         ["access_review_last_reviewed"]),
        ("access_review_interval_days", "zero", {"access_review_interval_days": 0}, ["access_review_interval_days"]),
        ("access_review_file", "relative", {"access_review_file": "review.json"}, ["access_review_file"]),
        ("access_ssh_ciphers", "weak", {"access_ssh_ciphers": ["aes128-cbc"]}, ["access_ssh_ciphers", "aes128-cbc"]),
        ("access_ssh_kex_algorithms", "sha1", {"access_ssh_kex_algorithms": ["diffie-hellman-group14-sha1"]},
         ["access_ssh_kex_algorithms", "diffie-hellman-group14-sha1"]),
        ("access_ssh_macs", "empty", {"access_ssh_macs": []}, ["access_ssh_macs"]),
    ],
    "mta": [
        ("mta_relay_networks", "invalid-cidr", {"mta_relay_networks": ["10.18.0.0/33"]}, ["mta_relay_networks", "10.18.0.0/33"]),
        ("mta_relay_networks", "host-bits", {"mta_relay_networks": ["171.64.1.1/14"]}, ["mta_relay_networks", "host bits"]),
        ("mta_relay_networks", "empty", {"mta_relay_networks": []}, ["mta_relay_networks"]),
        ("mta_relayhost", "no-port", {"mta_relayhost": "[smtp.stanford.edu]"}, ["mta_relayhost"]),
        ("mta_relayhost", "bad-port", {"mta_relayhost": "[smtp.stanford.edu]:70000"}, ["mta_relayhost"]),
        ("mta_tls_cert_file", "absent", {"mta_tls_cert_source": "provided", "mta_tls_cert_file": "/etc/ssl/certs/absent.pem"},
         ["mta_tls_cert_source", "/etc/ssl/certs/absent.pem"]),
        ("mta_sasl_users", "clear-text-password", {"mta_sasl_enabled": True, "mta_sasl_users": [{"name": "app", "password_hash": "secret"}]},
         ["mta_sasl_users", "password_hash"]),
        ("mta_sasl_users", "empty", {"mta_sasl_enabled": True, "mta_sasl_users": []}, ["mta_sasl_users"]),
    ],
    "antivirus": [
        ("antivirus_max_message_size", "under-postfix-limit", {"mta_message_size_limit": 52428800,
                                                               "antivirus_max_message_size": 26214400},
         ["antivirus_max_message_size"]),
        ("antivirus_max_message_size", "too-small", {"antivirus_max_message_size": 1000},
         ["antivirus_max_message_size"]),
        ("antivirus_scan_timeout", "over-540", {"antivirus_scan_timeout": 600}, ["antivirus_scan_timeout"]),
        ("antivirus_scan_timeout", "under-scan-time", {"antivirus_scan_timeout": 60, "antivirus_max_scan_time_ms": 120000},
         ["antivirus_scan_timeout", "antivirus_max_scan_time_ms"]),
        ("antivirus_max_scan_time_ms", "too-small", {"antivirus_max_scan_time_ms": 10}, ["antivirus_max_scan_time_ms"]),
        ("antivirus_freshclam_checks_per_day", "zero", {"antivirus_freshclam_checks_per_day": 0},
         ["antivirus_freshclam_checks_per_day"]),
        ("antivirus_freshclam_checks_per_day", "over-50", {"antivirus_freshclam_checks_per_day": 51},
         ["antivirus_freshclam_checks_per_day"]),
        ("antivirus_signature_max_age_hours", "over-48", {"antivirus_signature_max_age_hours": 72},
         ["antivirus_signature_max_age_hours"]),
        ("antivirus_freshclam_mirrors", "none", {"antivirus_freshclam_mirrors": [], "antivirus_freshclam_private_mirrors": []},
         ["antivirus_freshclam_mirrors"]),
        ("antivirus_admin_emails", "not-an-address", {"antivirus_admin_emails": ["root"]}, ["antivirus_admin_emails"]),
        ("mta_main_cf", "fail-open-milter", {"mta_main_cf": {"smtp_host_lookup": "native", "milter_default_action": "accept"}},
         ["mta_main_cf", "milter_default_action"]),
        ("mta_master_cf", "service-without-milters", {"mta_master_cf": [
            {"name": "submission", "type": "inet", "private": "n", "unprivileged": "-", "chroot": "y", "command": "smtpd",
             "parameters": {"receive_override_options": "no_milters"}}]},
         ["mta_master_cf", "submission/inet", "receive_override_options"]),
    ],
    "securemail": [
        ("securemail_relay", "empty", {"securemail_relay": ""}, ["securemail_relay"]),
        ("securemail_route_enabled", "text-false", {"securemail_route_enabled": "false"}, ["securemail_route_enabled"]),
        ("securemail_relay", "no-port", {"securemail_relay": "[secure.stanford.edu]"}, ["securemail_relay"]),
        ("securemail_relay_ca_file", "absent", {"securemail_relay_ca_file": "/etc/ssl/certs/absent-ca.pem"},
         ["securemail_relay_ca_file", "/etc/ssl/certs/absent-ca.pem"]),
        ("securemail_gate_action", "route-without-route", {"securemail_gate_action": "route", "securemail_route_enabled": False},
         ["securemail_gate_action", "securemail_route_enabled"]),
        ("securemail_gate_min_matches", "zero", {"securemail_gate_min_matches": 0}, ["securemail_gate_min_matches"]),
        ("securemail_gate_detect_ssn", "nothing-to-detect", {"securemail_gate_detect_ssn": False, "securemail_gate_detect_cards": False,
                                                             "securemail_gate_extra_patterns": {}},
         ["securemail_gate_detect_ssn", "securemail_gate_detect_cards"]),
        ("securemail_gate_extra_patterns", "bad-regex", {"securemail_gate_extra_patterns": {"mrn": "MRN[0-9"}},
         ["securemail_gate_extra_patterns", "mrn"]),
        ("securemail_gate_extra_patterns", "bad-name", {"securemail_gate_extra_patterns": {"bad name": "MRN[0-9]{8}"}},
         ["securemail_gate_extra_patterns", "bad name"]),
        ("securemail_gate_max_message_size", "under-postfix-limit", {"securemail_gate_max_message_size": 1048576},
         ["securemail_gate_max_message_size"]),
        ("securemail_tls_policy", "bad-destination", {"securemail_tls_policy": [{"destination": "not a host", "level": "secure"}]},
         ["securemail_tls_policy", "not a host"]),
        ("securemail_high_risk", "weak-relayhost-level", {"securemail_high_risk": True, "mta_relayhost_tls_level": "may"},
         ["securemail_high_risk", "mta_relayhost_tls_level"]),
        ("securemail_high_risk", "clear-text-inbound", {"securemail_high_risk": True,
                                                        "mta_main_cf": {"smtp_host_lookup": "native", "smtpd_tls_security_level": "may"}},
         ["securemail_high_risk", "smtpd_tls_security_level"]),
    ],
    "maillog": [
        ("maillog_retention_days", "under-a-year", {"maillog_retention_days": 365}, ["maillog_retention_days"]),
        ("maillog_auditor_members", "no-such-account", {"maillog_auditor_members": ["root", "nosuchauditor"]},
         ["maillog_auditor_members", "nosuchauditor"]),
        ("maillog_retention_days", "over-ten-years", {"maillog_retention_days": 3661}, ["maillog_retention_days"]),
        ("maillog_file", "outside-var-log", {"maillog_file": "/tmp/mail.log"}, ["maillog_file"]),
        ("maillog_file", "dot-dot", {"maillog_file": "/var/log/../tmp/mail.log"}, ["maillog_file"]),
        ("maillog_component_logs", "outside-var-log", {"maillog_component_logs": [{"path": "/tmp/clamav.log"}]},
         ["maillog_component_logs", "/tmp/clamav.log"]),
        ("maillog_component_logs", "duplicate", {"maillog_component_logs": [{"path": "/var/log/clamav/clamav.log"},
                                                                            {"path": "/var/log/clamav/clamav.log"}]},
         ["maillog_component_logs"]),
        ("maillog_component_logs", "claims-mail-log", {"maillog_component_logs": [{"path": "/var/log/mail.log"}]},
         ["maillog_component_logs", "maillog_file"]),
        ("maillog_forward_host", "empty", {"maillog_forward_host": ""}, ["maillog_forward_host"]),
        ("maillog_forward_port", "out-of-range", {"maillog_forward_port": 70000}, ["maillog_forward_port"]),
        ("maillog_forward_ca_file", "relative", {"maillog_forward_ca_file": "ca.pem"}, ["maillog_forward_ca_file"]),
        ("maillog_forward_ca_file", "absent", {"maillog_forward_ca_file": "/etc/ssl/certs/absent-collector-ca.pem"},
         ["maillog_forward_ca_file", "/etc/ssl/certs/absent-collector-ca.pem"]),
        ("maillog_forward_permitted_peers", "bad-name", {"maillog_forward_permitted_peers": ["relay host"]},
         ["maillog_forward_permitted_peers"]),
        ("maillog_forward_client_key_file", "cert-without-key", {"maillog_forward_client_key_file": ""},
         ["maillog_forward_client_key_file"]),
        ("maillog_forward_client_cert_file", "relp-without-cert", {"maillog_forward_client_cert_file": "",
                                                                   "maillog_forward_client_key_file": ""},
         ["maillog_forward_client_cert_file"]),
        ("maillog_expected_daily_mb", "zero", {"maillog_expected_daily_mb": 0}, ["maillog_expected_daily_mb"]),
        ("maillog_expected_daily_mb", "no-room", {"maillog_expected_daily_mb": 10000000}, ["maillog_expected_daily_mb"]),
        ("maillog_compressed_percent", "over-100", {"maillog_compressed_percent": 101}, ["maillog_compressed_percent"]),
        ("maillog_space_warn_percent", "zero", {"maillog_space_warn_percent": 0}, ["maillog_space_warn_percent"]),
    ],
    "baseline": [
        ("baseline_patch_reboot_time", "bad-time", {"baseline_patch_reboot_time": "25:00"}, ["baseline_patch_reboot_time"]),
        ("baseline_patch_upgrade_time", "empty", {"baseline_patch_upgrade_time": ""}, ["baseline_patch_upgrade_time"]),
        ("baseline_patch_status_time", "empty", {"baseline_patch_status_time": ""}, ["baseline_patch_status_time"]),
        ("baseline_aide_check_time", "empty", {"baseline_aide_check_time": ""}, ["baseline_aide_check_time"]),
        ("baseline_smtp_sources", "invalid-cidr", {"baseline_smtp_sources": ["10.0.0.0/40"]}, ["baseline_smtp_sources", "10.0.0.0/40"]),
        ("baseline_submission_sources", "host-bits", {"baseline_submission_sources": ["171.64.1.1/14"]},
         ["baseline_submission_sources", "171.64.1.1/14"]),
        ("baseline_vuln_scanner_sources", "not-a-network", {"baseline_vuln_scanner_sources": ["scanner"]},
         ["baseline_vuln_scanner_sources", "scanner"]),
        ("baseline_ssh_sources", "empty", {"baseline_ssh_sources": []}, ["baseline_ssh_sources"]),
        ("baseline_ssh_port", "out-of-range", {"baseline_ssh_port": 0}, ["baseline_ssh_port"]),
        ("baseline_firewall_extra_rules", "out-of-range-port", {"baseline_firewall_extra_rules": [
            {"name": "web", "port": 70000, "sources": ["171.64.0.0/14"]}]}, ["baseline_firewall_extra_rules"]),
        ("baseline_firewall_extra_rules", "bad-source", {"baseline_firewall_extra_rules": [
            {"name": "web", "port": 443, "sources": ["anywhere"]}]}, ["baseline_firewall_extra_rules", "anywhere"]),
        ("baseline_listen_allowlist_extra", "out-of-range-port", {"baseline_listen_allowlist_extra": [
            {"name": "exporter", "port": 0, "processes": ["node_exporter"]}]}, ["baseline_listen_allowlist_extra"]),
        ("baseline_listen_allowlist_extra", "no-process", {"baseline_listen_allowlist_extra": [
            {"name": "exporter", "port": 9100, "processes": []}]}, ["baseline_listen_allowlist_extra"]),
        ("baseline_aide_paths", "empty", {"baseline_aide_paths": []}, ["baseline_aide_paths"]),
        ("baseline_aide_exclude", "relative", {"baseline_aide_exclude": ["var/tmp"]}, ["baseline_aide_exclude", "var/tmp"]),
        ("baseline_firewall_controller_address", "locked-out", {"baseline_firewall_controller_address": "198.51.100.99"},
         ["198.51.100.99"]),
    ],
}


def load_specs(project):
    """Each role's options (entry point main), in the order site.yml checks the roles."""
    specs = {}
    for role in ROLES:
        with open(os.path.join(project, "roles", role, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
            main = yaml.safe_load(handle)["argument_specs"]["main"]
        specs[role] = main
    return specs


def requirements(spec):
    """The requirement IDs a role names in its short description, e.g. (TM-05, TM-07)."""
    return sorted(set(re.findall(r"\b(?:TM-\d\d|MS-[A-Z0-9]+)\b", spec["short_description"])))


def _wrong_cases(path, option):
    """(kind, value or None for missing) for one option."""
    kinds = []
    wanted = option.get("type", "str")
    kinds.append(("type", copy.deepcopy(WRONG_TYPE[wanted])))
    if option.get("choices"):
        kinds.append(("choice", "not-one-of-the-choices"))
    if option.get("required"):
        kinds.append(("missing", None))
    if wanted == "list" and option.get("elements") in WRONG_ELEMENT:
        kinds.append(("element", [copy.deepcopy(WRONG_ELEMENT[option["elements"]])]))
    return kinds


def generated(specs):
    """type/choice/missing/element cases for every option and sub-option of every role."""
    cases = []
    for role, spec in specs.items():
        for name, option in spec["options"].items():
            context = CONTEXT.get(name, {})
            for kind, value in _wrong_cases(name, option):
                if kind == "missing":
                    cases.append(("%s.%s.%s" % (role, name, kind), role, name, dict(context), [name], [name]))
                else:
                    cases.append(("%s.%s.%s" % (role, name, kind), role, name, dict(context, **{name: value}), [], [name]))
            for sub, suboption in (option.get("options") or {}).items():
                example = VALID_EXAMPLES.get(name)
                if not example:
                    raise ValueError("no valid example of %s to vary %s in: add one to VALID_EXAMPLES" % (name, sub))
                element = copy.deepcopy(example[0] if isinstance(example, list) else example)
                for kind, value in _wrong_cases(sub, suboption):
                    bad = copy.deepcopy(element)
                    if kind == "missing":
                        bad.pop(sub, None)
                    else:
                        bad[sub] = value
                    whole = [bad] if option.get("type") == "list" else bad
                    cases.append(("%s.%s.%s.%s" % (role, name, sub, kind), role, name, dict(context, **{name: whole}), [],
                                  [name, sub]))
    return cases


def semantic():
    return [("%s.%s.semantic-%s" % (role, name, kind), role, name, overrides, [], words)
            for role in ROLES for name, kind, overrides, words in SEMANTIC.get(role, [])]


def all_cases(project):
    specs = load_specs(project)
    cases = generated(specs) + semantic()
    ids = [case[0] for case in cases]
    duplicates = sorted({case_id for case_id in ids if ids.count(case_id) > 1})
    if duplicates:
        raise ValueError("duplicate case IDs: %s" % ", ".join(duplicates))
    return cases, {role: requirements(spec) for role, spec in specs.items()}
