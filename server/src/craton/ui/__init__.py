"""The web UI: a second presentation layer beside ``craton.http``, on the same domain calls."""
