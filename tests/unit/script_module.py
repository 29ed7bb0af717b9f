# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load one of the roles' scripts (files without a .py suffix) as a module, for unit tests.

Importable from any test under tests/unit: pytest puts this directory, where the root
conftest.py is, on sys.path.
"""

import importlib.machinery
import importlib.util
import os

REPO = os.path.realpath(os.path.join(os.path.dirname(__file__), '..', '..'))


def script_path(*parts):
    return os.path.join(REPO, *parts)


def load_script(name, *parts):
    """The script at REPO/PARTS, loaded as module NAME."""
    loader = importlib.machinery.SourceFileLoader(name, script_path(*parts))
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module
