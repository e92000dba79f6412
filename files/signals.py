"""An attachment's row gone (purged, or its room or user deleted): its bytes go too."""

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from chat.models import Attachment


@receiver(post_delete, sender=Attachment)
def remove_stored_files(sender, instance: Attachment, **kwargs) -> None:
    names = [field.name for field in (instance.file, instance.thumbnail) if field]
    storage = instance.file.storage

    def remove() -> None:
        for name in names:
            storage.delete(name)

    # Only once the row is surely gone: a rolled-back delete keeps its files.
    transaction.on_commit(remove)
