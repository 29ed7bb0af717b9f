"""What the inventory says a host must have, for the checks that would otherwise assume a role default.

scripts/tm-audit passes the plain (untemplated) inventory values of a few role variables
in TM_AUDIT_EXPECT (JSON). A check reads one with ``expected(name, default)``; under
molecule, and for a variable the inventory leaves at its default, the role default applies.
"""

import json
import os


def expected(name, default):
    """The inventory's value of NAME as tm-audit passed it, or DEFAULT."""
    value = json.loads(os.environ.get("TM_AUDIT_EXPECT") or "{}").get(name)
    return default if value is None or value == "" else value
