"""Craton: a multi-tenant fleet inventory service for cloud operators."""

__version__ = "1.0.0"
