"""The ``craton`` command-line tool (``cratonclient.shell.main:main``).

``main.py`` parses and reports, ``commands.py`` is the command model, ``resources.py`` the one
generic implementation of the per-resource commands, ``v1/`` declares each resource, and
``cratonclient.formatters`` renders the results.
"""
