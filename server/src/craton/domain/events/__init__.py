"""Events derived from committed changes: the outbox pump and its subscribers."""
