"""Keystone mode: a real Keystone from PyPI and a real craton-api in Keystone mode."""
