"""Project-wide test code; each app's own tests live in ``<app>/tests/``."""
