"""MS-FIREWALL / MS-VULN / TM-07 / TM-08 from the network: what other hosts can reach.

Connections are made from the probe containers (python3's socket there), from chosen
source addresses: 172.24.77.81 is the admin network, 172.24.77.82 the vulnerability
scanner, 172.24.77.83 an ordinary campus client; 198.51.100.81 is outside the
University. A port is "open" (connected), "refused" (the host answered: nothing
listens there, but the firewall let the packet in) or "filtered" (no answer at all:
the firewall dropped it).
"""

import json
import os
import shlex

import pytest

MAIL_CAMPUS = "172.24.77.80"
MAIL_OUTSIDE = "198.51.100.80"
ADMIN = "172.24.77.81"
SCANNER = "172.24.77.82"
CAMPUS_CLIENT = "172.24.77.83"

# The scenario turns SMTP AUTH, and with it 587 and 465, on for Debian 12 only (the mta
# role has no SASL support on Debian 13 yet): there they must be open, here filtered.
SUBMISSION = os.environ.get("TM_RELEASE", "bookworm") == "bookworm"

# Ports where nothing of a mail relay may be reachable from a client.
OTHER_PORTS = [21, 23, 110, 111, 143, 513, 514, 631, 2049, 3306, 8080]

_PROBE = r'''
import json, socket, sys, threading
src, dst, ports = sys.argv[1], sys.argv[2], [int(p) for p in sys.argv[3].split(",")]
out = {}

def one(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(3)
    try:
        if src:
            s.bind((src, 0))
        s.connect((dst, port))
        out[port] = "open"
    except socket.timeout:
        out[port] = "filtered"
    except ConnectionRefusedError:
        out[port] = "refused"
    except OSError as exc:
        out[port] = "error %s" % exc.errno
    finally:
        s.close()

threads = [threading.Thread(target=one, args=(p,)) for p in ports]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps(out))
'''


def probe(client, dst, ports, src=""):
    cmd = client.run("python3 -c %s %s %s %s" % (shlex.quote(_PROBE), shlex.quote(src), dst,
                                                 ",".join(str(p) for p in ports)))
    assert cmd.rc == 0, cmd.stderr
    return {int(k): v for k, v in json.loads(cmd.stdout).items()}


@pytest.mark.requirement("MS-FIREWALL")
@pytest.mark.positive
def test_campus_reaches_smtp(hosts):
    result = probe(hosts["campus"], MAIL_CAMPUS, [25], src=CAMPUS_CLIENT)
    assert result == {25: "open"}, result


@pytest.mark.requirement("MS-FIREWALL")
def test_outside_cannot_reach_port_25(hosts):
    """Port 25 is open to the campus only (baseline_smtp_sources): from outside it is dropped."""
    result = probe(hosts["outside"], MAIL_OUTSIDE, [25])
    assert result == {25: "filtered"}, "port 25 from outside: %s" % result


@pytest.mark.requirement("MS-FIREWALL")
def test_submission_ports_follow_the_configuration(hosts):
    """587 and 465, when enabled, are open to anyone (authenticated users off campus);
    when not, they are filtered like every other port."""
    result = probe(hosts["outside"], MAIL_OUTSIDE, [587, 465])
    expected = "open" if SUBMISSION else "filtered"
    assert result == {587: expected, 465: expected}, "submission ports from outside: %s (expected %s)" % (result, expected)


@pytest.mark.requirement("MS-FIREWALL")
@pytest.mark.positive
def test_admin_network_reaches_ssh(hosts):
    result = probe(hosts["campus"], MAIL_CAMPUS, [22], src=ADMIN)
    assert result == {22: "open"}, result


@pytest.mark.requirement("MS-FIREWALL")
def test_ssh_only_from_admin_network(hosts):
    campus = probe(hosts["campus"], MAIL_CAMPUS, [22], src=CAMPUS_CLIENT)
    outside = probe(hosts["outside"], MAIL_OUTSIDE, [22])
    assert campus == {22: "filtered"}, "SSH from a campus client that is not an admin network: %s" % campus
    assert outside == {22: "filtered"}, "SSH from outside: %s" % outside


@pytest.mark.requirement("MS-FIREWALL", "TM-08")
def test_everything_else_is_filtered(hosts):
    campus = probe(hosts["campus"], MAIL_CAMPUS, OTHER_PORTS, src=CAMPUS_CLIENT)
    outside = probe(hosts["outside"], MAIL_OUTSIDE, OTHER_PORTS)
    for where, result in (("campus client", campus), ("outside", outside)):
        passed = {port: state for port, state in result.items() if state != "filtered"}
        assert not passed, "from the %s these ports are not filtered: %s" % (where, passed)


@pytest.mark.requirement("TM-07")
def test_no_telnet_reachable(hosts):
    for client, dst, src in ((hosts["campus"], MAIL_CAMPUS, ADMIN), (hosts["campus"], MAIL_CAMPUS, SCANNER),
                             (hosts["outside"], MAIL_OUTSIDE, "")):
        result = probe(client, dst, [23], src=src)
        assert result[23] != "open", "a telnet server answers %s: %s" % (src or "outside", result)


@pytest.mark.requirement("MS-VULN", "MS-FIREWALL")
def test_scanner_passes_the_firewall(hosts):
    """The scanner's packets reach the host on any port (answered, not dropped); the same
    ports stay filtered for an ordinary campus client."""
    ports = [111, 8443, 10050]
    scanner = probe(hosts["campus"], MAIL_CAMPUS, ports, src=SCANNER)
    client = probe(hosts["campus"], MAIL_CAMPUS, ports, src=CAMPUS_CLIENT)
    assert all(state in ("open", "refused") for state in scanner.values()), "scanner blocked: %s" % scanner
    assert all(state == "filtered" for state in client.values()), "campus client not filtered: %s" % client


@pytest.mark.requirement("MS-FIREWALL")
def test_ipv6_link_signalling_is_let_in(hosts):
    """Default deny must keep IPv6 working: neighbour discovery from anywhere, and multicast
    listener discovery (MLD) from link-local addresses only (RFC 4890)."""
    ruleset = json.loads(hosts["mail"].check_output("nft -j list ruleset"))["nftables"]
    accepted = {}
    for rule in (item["rule"] for item in ruleset if "rule" in item and item["rule"].get("chain") == "input"):
        if not any("accept" in statement for statement in rule["expr"]):
            continue
        source, types = "any", []
        for statement in rule["expr"]:
            match = statement.get("match", {})
            payload = match.get("left", {}).get("payload", {})
            if payload.get("protocol") == "ip6" and payload.get("field") == "saddr":
                right = match["right"]
                prefix = right.get("prefix") if isinstance(right, dict) else None
                source = "%s/%s" % (prefix["addr"], prefix["len"]) if prefix else json.dumps(right)
            if payload.get("protocol") == "icmpv6" and payload.get("field") == "type":
                right = match["right"]
                types = right.get("set", []) if isinstance(right, dict) else [right]
        for kind in types:
            accepted.setdefault(kind, set()).add(source)
    assert {"nd-neighbor-solicit", "nd-neighbor-advert", "nd-router-advert"} <= set(accepted), sorted(accepted)
    for kind in ("mld-listener-query", "mld2-listener-report"):
        assert accepted.get(kind) == {"fe80::/10"}, "%s accepted from %s" % (kind, sorted(accepted.get(kind, [])) or "nowhere")
