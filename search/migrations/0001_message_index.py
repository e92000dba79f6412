"""The full-text index over messages (search.index), built for the messages already stored."""

from django.db import migrations


def create(apps, schema_editor):
    from search import index

    index.create(schema_editor.connection)


def drop(apps, schema_editor):
    from search import index

    index.drop(schema_editor.connection)


class Migration(migrations.Migration):
    # ALTER TABLE ... ADD COLUMN rewrites chat_message on PostgreSQL; one step, no partial state.
    dependencies = [("chat", "0006_room_kinds_and_roles")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
