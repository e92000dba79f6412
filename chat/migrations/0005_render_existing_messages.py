"""Existing messages get their rendering (html, text, mentions); their authors become members."""

from django.db import migrations
from django.db.models.functions import Lower

BATCH = 500


def render_existing(apps, schema_editor):
    from chat import formatting

    Message = apps.get_model("chat", "Message")
    Membership = apps.get_model("chat", "Membership")
    authors = Message.objects.values_list("user_id", "room_id").distinct()
    Membership.objects.bulk_create(
        [Membership(user_id=user_id, room_id=room_id) for user_id, room_id in authors],
        ignore_conflicts=True,
    )

    def members(room_id):
        return lambda names: dict(
            Membership.objects.filter(room_id=room_id, user__is_active=True)
            .annotate(name=Lower("user__username"))
            .filter(name__in=list(names))
            .values_list("name", "user_id")
        )

    pending = []
    for message in Message.objects.filter(html="").only("id", "room_id", "body").iterator():
        rendered = formatting.render(message.body, members(message.room_id))
        message.html, message.text, message.mentions = (
            rendered.html,
            rendered.text,
            rendered.mentions,
        )
        pending.append(message)
        if len(pending) >= BATCH:
            Message.objects.bulk_update(pending, ["html", "text", "mentions"])
            pending = []
    if pending:
        Message.objects.bulk_update(pending, ["html", "text", "mentions"])


class Migration(migrations.Migration):
    dependencies = [("chat", "0004_rich_messages")]

    operations = [migrations.RunPython(render_existing, migrations.RunPython.noop)]
