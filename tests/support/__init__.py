"""Test infrastructure shared by every app, loaded as a pytest plugin by the root conftest.py.

``plugin`` holds the hooks and the fixtures for real services, servers and a
browser; ``people`` and ``unit`` the fixtures and helpers of in-process tests;
``services`` starts PostgreSQL, Redis and Jabber servers; ``clients`` talks to
them; ``sessions`` mints logged-in sessions; ``browser`` drives Chromium;
``with_services`` runs a command against a throwaway PostgreSQL and Redis
(``make test-prod``). The benchmark (``bench/``) reuses ``services`` and
``sessions``.
"""
