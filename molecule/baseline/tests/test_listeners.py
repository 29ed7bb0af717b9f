"""TM-08: the listener check allows a DHCP client's socket, and nothing else on its port.

A host that takes its address from DHCP keeps a UDP socket on port 68 (546 for DHCPv6)
for the replies to its own requests. The test binds that port on the converged host from
a program named ``dhclient``, then from one with another name: the role's listener check
(and the audit's TM-08 check) must allow the first and report the second.
"""

import json
import shlex

import pytest

LISTEN_CHECK = "/usr/local/libexec/trusted-mail/listen-check"
BIND = "import socket, time; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('0.0.0.0', 68)); time.sleep(120)"


def _check_while_bound(mail, program):
    """Run the listener check while PROGRAM (a copy of python3) holds UDP port 68."""
    path = "/run/%s" % program
    mail.run("cp /usr/bin/python3 %s && (%s -c %s </dev/null >/dev/null 2>&1 &) ; sleep 1"
             % (path, path, shlex.quote(BIND)))
    try:
        held = mail.run("ss -Hlunp 'sport = :68'").stdout
        result = mail.run(LISTEN_CHECK)
        return held, result.rc, json.loads(result.stdout) if result.stdout.strip().startswith("{") else {"error": result.stderr}
    finally:
        mail.run("pkill -x %s; rm -f %s" % (program[:15], path))


@pytest.mark.requirement("TM-08")
def test_a_dhcp_client_socket_is_allowed_and_only_for_dhcp_clients(hosts, record_property):
    mail = hosts["mail"]
    client = _check_while_bound(mail, "dhclient")
    other = _check_while_bound(mail, "rogue-daemon")
    record_property("evidence", "dhclient on udp 68: rc %s, violations %s; rogue-daemon on udp 68: rc %s, violations %s"
                    % (client[1], client[2].get("violations"), other[1], other[2].get("violations")))
    assert "dhclient" in client[0], "the stand-in DHCP client did not bind port 68: %r" % client[0]
    assert client[1] == 0, "a DHCP client's socket was reported: %s" % client[2]
    assert [s["allowed_by"] for s in client[2]["listeners"] if s["port"] == 68] == ["dhcp-client"], client[2]
    assert "rogue-daemon" in other[0], "the other program did not bind port 68: %r" % other[0]
    assert other[1] == 1 and [v["port"] for v in other[2]["violations"]] == [68], (
        "another program on the DHCP client port was not reported: %s" % other[2])
