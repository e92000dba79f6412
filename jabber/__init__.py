"""The project package: settings, ASGI, URLs, and what every app shares (events, clock, limits)."""
