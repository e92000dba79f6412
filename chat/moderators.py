"""The Moderators group: which permissions it holds, in one list."""

MODERATORS_GROUP = "Moderators"

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
    ("chat", "view_report"),
    ("chat", "change_report"),
    ("presence", "view_connection"),
    # The ban and mute forms pick their user by autocomplete, which asks for it.
    ("auth", "view_user"),
]


def sync_moderators_group(group_model, permission_model):
    """Create the group if needed and give it exactly MODERATOR_PERMISSIONS.

    Takes the models as arguments so a migration can pass its historical ones.
    """
    group, _ = group_model.objects.get_or_create(name=MODERATORS_GROUP)
    permissions = permission_model.objects.all()
    found = [
        permissions.filter(content_type__app_label=app_label, codename=codename).first()
        for app_label, codename in MODERATOR_PERMISSIONS
    ]
    # An early migration runs before later models (reports) exist; a later one adds theirs.
    group.permissions.set([permission for permission in found if permission is not None])
    return group
