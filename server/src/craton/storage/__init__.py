"""Storage layer: table definitions, engines, migrations and set-based queries."""
