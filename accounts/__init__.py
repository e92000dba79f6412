"""Accounts: allauth wiring, username rules, what a login or user change does to live sockets."""
