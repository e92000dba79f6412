"""Deployment checks of ours (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_email_configured(app_configs, **kwargs) -> list[Warning]:
    """Without EMAIL_URL no mail leaves the server: password resets never arrive."""
    if settings.EMAIL_URL or settings.DEBUG:
        return []
    return [
        Warning(
            "EMAIL_URL is not set, so no email is sent (password resets never arrive).",
            hint="Set EMAIL_URL, e.g. smtp://user:password@smtp.example.com:587.",
            id="jabber.W001",
        )
    ]
