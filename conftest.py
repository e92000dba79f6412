"""Loads the project's pytest plugin: fixtures for real services, servers, browsers and people.

Everything lives in ``tests/support/`` (see ``tests/support/plugin.py``).
"""

pytest_plugins = ["tests.support.plugin"]
