"""The files app: uploads, image processing, serving, purging."""

from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "files"

    def ready(self) -> None:
        from files import signals  # noqa: F401 (connects the receivers)
