"""Keystone's WSGI app for gunicorn, run by the Keystone virtualenv's Python (never imported by pytest).

keystone.server reads oslo.config from sys.argv at import, where it would find gunicorn's own
options; the configuration comes from OS_KEYSTONE_CONFIG_FILES instead.
"""

import sys

sys.argv = sys.argv[:1]

from keystone.wsgi.api import application  # noqa: E402,F401
