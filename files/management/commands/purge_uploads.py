"""manage.py purge_uploads: remove unused uploads and the files of long-deleted messages."""

from django.core.management.base import BaseCommand

from files.services import purge_uploads


class Command(BaseCommand):
    help = (
        "Delete uploads never attached to a message within 24 hours, and the files of "
        "messages deleted more than JABBER_UPLOAD_RETENTION_DAYS ago."
    )

    def handle(self, *args, **options) -> None:
        count = purge_uploads()
        self.stdout.write(f"Removed {count} upload(s).")
