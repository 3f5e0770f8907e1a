"""Domain logic: tenancy, hierarchy rules, variable resolution and queries.

Nothing here knows about HTTP; it is handed a database connection and a
:class:`~craton.domain.principal.Principal` and raises :mod:`craton.domain.errors`.
"""
