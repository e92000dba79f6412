"""The Moderators group may view users: the ban and mute forms pick them by autocomplete."""

from django.db import migrations

from chat.moderators import sync_moderators_group


def sync(apps, schema_editor):
    sync_moderators_group(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [("chat", "0009_notification_settings")]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
