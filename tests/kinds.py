"""The kinds of object, for the tests' parametrisation: derived from the server's registry.

A kind added to ``craton.domain.kinds.KINDS`` appears in every suite parametrised from
here; a suite that needs per-kind data (bodies, builders) then fails with a KeyError
naming the kind, rather than silently leaving the kind untested.
"""

from __future__ import annotations

from craton.domain.kinds import KINDS, KindInfo
from craton.domain.principal import Role


def segment(info: KindInfo) -> str:
    """The collection's URL segment: ``network-devices``."""
    return info.path.removeprefix("/v1/")


#: Every kind's URL segment, in registry order.
ALL = tuple(segment(info) for info in KINDS)
#: The kinds a project's members keep (everything but projects and users).
INVENTORY = tuple(segment(info) for info in KINDS if info.read_role is Role.MEMBER)
#: Kinds with labels.
DEVICES = tuple(segment(info) for info in KINDS if info.has_labels)
#: Kinds whose reads resolve variables along a chain of parents.
RESOLVING = tuple(segment(info) for info in KINDS if info.parents and info.read_role is Role.MEMBER)
#: URL segment -> JSON key of its lists.
LIST_KEYS = {segment(info): info.collection for info in KINDS}
#: URL segment -> the client's manager attribute.
MANAGERS = {segment(info): info.collection for info in KINDS}
