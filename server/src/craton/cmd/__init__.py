"""Console entry points: ``craton-api`` and ``craton-dbsync``."""
