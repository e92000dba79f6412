"""The Moderators group: staff in it can moderate from the admin, and nothing more."""

from django.db import migrations

from chat.moderators import MODERATORS_GROUP, sync_moderators_group


def create_moderators(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally made after migrate; make them now so the group can hold them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_moderators_group(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def remove_moderators(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=MODERATORS_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("chat", "0001_initial"),
        ("presence", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_moderators, remove_moderators)]
