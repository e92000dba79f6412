"""System checks of the chat's settings (`manage.py check --deploy`)."""

from django.conf import settings
from django.core import checks

DUMMY_EMAIL = "django.core.mail.backends.dummy.EmailBackend"


@checks.register(checks.Tags.compatibility, deploy=True)
def email_configured(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Notification emails (SPEC §9) go nowhere until EMAIL_URL is set."""
    if settings.EMAIL_BACKEND != DUMMY_EMAIL:
        return []
    return [
        checks.Warning(
            "No mail server is configured: notification emails are not sent.",
            hint="Set EMAIL_URL (smtp://…, smtp+tls://… or smtps://…).",
            id="jabber.W001",
        )
    ]
