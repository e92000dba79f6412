"""`manage.py prune_presence`: drop stale connections and tell their rooms."""

from asgiref.sync import async_to_sync
from django.core.management.base import BaseCommand

from presence.services import prune_and_notify


class Command(BaseCommand):
    help = "Drop sockets silent for longer than JABBER_PRESENCE_TIMEOUT and tell their rooms."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--timeout", type=float, help="Seconds of silence (default: setting).")

    def handle(self, *args, timeout: float | None = None, **options) -> None:
        count = async_to_sync(prune_and_notify)(timeout)
        self.stdout.write(f"Pruned {count} stale connection(s).")
