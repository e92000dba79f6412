"""Email digests of unread mentions and direct messages; run every minute (idempotent)."""

from django.core.management.base import BaseCommand

from chat.services.notifications import send_digests


class Command(BaseCommand):
    help = (
        "Email each user their unread mentions and direct messages that arrived while they "
        "were offline, at most once per JABBER_EMAIL_DIGEST_MINUTES; safe to run at any time."
    )

    def handle(self, *args, **options) -> None:
        sent = send_digests()
        self.stdout.write(f"sent {sent} email(s)")
