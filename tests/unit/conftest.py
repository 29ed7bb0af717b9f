# Copyright: Stanford trusted_mail maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make ``ansible_collections.stanford.trusted_mail`` importable for a plain ``python -m pytest tests/unit``.

When the checkout already lives at ``.../ansible_collections/stanford/trusted_mail`` (as under
``ansible-test units``) that tree is used, else the ``build/collections`` link made by
``make collection`` when it exists. Otherwise a throw-away directory holding
``ansible_collections/stanford/trusted_mail -> <this checkout>`` is put on ``sys.path``; it is
removed again when the test run ends. Nothing is written inside the checkout.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import atexit
import importlib.util
import os
import shutil
import sys
import tempfile

_COLLECTION = os.path.realpath(os.path.join(os.path.dirname(__file__), '..', '..'))
_NAMESPACE, _NAME = 'stanford', 'trusted_mail'


def _importable():
    try:
        spec = importlib.util.find_spec('ansible_collections.%s.%s' % (_NAMESPACE, _NAME))
    except ImportError:
        return False
    return spec is not None


def _setup_collection_path():
    parent = os.path.dirname(_COLLECTION)
    grandparent = os.path.dirname(parent)
    if (os.path.basename(_COLLECTION), os.path.basename(parent), os.path.basename(grandparent)) == (_NAME, _NAMESPACE, 'ansible_collections'):
        root = os.path.dirname(grandparent)
        if root not in sys.path:
            sys.path.insert(0, root)
        return
    if _importable():
        return
    # `make collection` links build/collections/ansible_collections/stanford/trusted_mail to the checkout.
    built = os.path.join(_COLLECTION, 'build', 'collections')
    link = os.path.join(built, 'ansible_collections', _NAMESPACE, _NAME)
    if os.path.isdir(link) and os.path.realpath(link) == _COLLECTION:
        sys.path.insert(0, built)
        return
    root = tempfile.mkdtemp(prefix='trusted_mail-pytest-')
    atexit.register(shutil.rmtree, root, True)  # removes the symlink, never follows it
    namespace_dir = os.path.join(root, 'ansible_collections', _NAMESPACE)
    os.makedirs(namespace_dir)
    os.symlink(_COLLECTION, os.path.join(namespace_dir, _NAME))
    sys.path.insert(0, root)


_setup_collection_path()
