"""API keys: random, shown once, stored only as a hash, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

_SCHEME = "sha256"


def generate_api_key() -> str:
    """32 hex characters (128 random bits), the shape the original bootstrap printed."""
    return secrets.token_hex(16)


def hash_api_key(api_key: str) -> str:
    # Keys are 128-bit random values, so a fast hash cannot be brute-forced;
    # a slow KDF would only cost latency on every request.
    return f"{_SCHEME}${hashlib.sha256(api_key.encode()).hexdigest()}"


def verify_api_key(api_key: str | None, stored_hash: str | None) -> bool:
    if not api_key or not stored_hash:
        return False
    return hmac.compare_digest(hash_api_key(api_key), stored_hash)
