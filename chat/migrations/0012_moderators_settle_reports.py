"""The Moderators group also sees and settles reports (chat.moderators lists its permissions)."""

from django.db import migrations

from chat.moderators import sync_moderators_group


def sync_moderators(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally made after migrate; the Report ones are needed now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_moderators_group(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [("chat", "0011_private_rooms")]

    operations = [migrations.RunPython(sync_moderators, migrations.RunPython.noop)]
