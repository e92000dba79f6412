"""Message search (SPEC §13): the index is the database's own; this app queries it."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SearchConfig(AppConfig):
    name = "search"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(_restore_index, sender=self)


def _restore_index(using: str, **kwargs) -> None:
    # A migration that rebuilds chat_message on SQLite drops the FTS triggers with it.
    from django.db import connections

    from search import index

    index.ensure(connections[using])
