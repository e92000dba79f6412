"""The accounts app; its signals and deployment checks are connected when it is ready."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from accounts import checks, signals  # noqa: F401
