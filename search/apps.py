"""Message search (SPEC §13): the index is the database's own; this app queries it."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SearchConfig(AppConfig):
    name = "search"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Sent for apps with models only (not this one): hang it on chat, the table's owner.
        post_migrate.connect(_restore_index, dispatch_uid="search.restore_index")


def _restore_index(sender: AppConfig, using: str, **kwargs) -> None:
    # A migration that rebuilds chat_message on SQLite drops the FTS triggers with it.
    if sender.label != "chat":
        return
    from django.db import connections

    from search import index

    index.ensure(connections[using])
