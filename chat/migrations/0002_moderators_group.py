"""The Moderators group: staff in it can moderate from the admin, and nothing more."""

from django.db import migrations

MODERATOR_PERMISSIONS = [
    ("chat", "moderate_room"),
    ("chat", "view_room"),
    ("chat", "change_room"),
    ("chat", "view_message"),
    ("chat", "change_message"),
    ("chat", "view_ban"),
    ("chat", "add_ban"),
    ("chat", "change_ban"),
    ("chat", "delete_ban"),
    ("chat", "view_mute"),
    ("chat", "add_mute"),
    ("chat", "change_mute"),
    ("chat", "delete_mute"),
    ("presence", "view_connection"),
]


def create_moderators(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally made after migrate; make them now so the group can hold them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Moderators")
    permissions = [
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
        for app_label, codename in MODERATOR_PERMISSIONS
    ]
    group.permissions.set(permissions)


def remove_moderators(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Moderators").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("chat", "0001_initial"),
        ("presence", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_moderators, remove_moderators)]
