"""The Channels tutorial chat, as a standalone ASGI project (no auth, no database)."""
