"""Python client library for Craton, the multi-tenant fleet inventory service.

Start with :func:`cratonclient.auth.craton_auth` (or ``keystone_auth``) to get a
:class:`cratonclient.session.Session`, then build a
:class:`cratonclient.v1.client.Client` from it.
"""

# A literal on purpose: packaging reads it statically and it never depends on git metadata.
__version__ = "1.0.0"

__all__ = ["__version__"]
