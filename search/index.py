"""The full-text index over `Message.text`, one per engine, kept current by the database itself.

PostgreSQL: a stored generated `tsvector` column `chat_message.search_vector`
(English stemming) with a GIN index over visible messages. PostgreSQL computes it
on every insert and update (edit, delete), so no write path can forget it.
SQLite: an FTS5 table `search_message_fts` (porter stemming) holding the text
of visible messages, kept current by triggers on `chat_message`.

Both index the text with ASCII punctuation read as spaces, so that
"example.com" or "don't" is the same words on both engines (PostgreSQL's parser
would otherwise keep hosts, e-mails and paths as one token).

SQLite drops a table's triggers when Django rebuilds the table (some ALTERs do),
so `ensure` runs after every migrate (search.apps) and restores them.
"""

from django.db.backends.base.base import BaseDatabaseWrapper

FTS_TABLE = "search_message_fts"

# ASCII punctuation read as spaces before PostgreSQL's parser sees the text.
PUNCTUATION = r"[!-/:-@\[-`{-~]+"

POSTGRES_CREATE = [
    f"""
    ALTER TABLE chat_message ADD COLUMN IF NOT EXISTS search_vector tsvector
    GENERATED ALWAYS AS (
        to_tsvector('english'::regconfig, regexp_replace(text, '{PUNCTUATION}', ' ', 'g'))
    ) STORED
    """,
    """
    CREATE INDEX IF NOT EXISTS search_message_vector ON chat_message
    USING GIN (search_vector) WHERE deleted IS NULL
    """,
]
POSTGRES_DROP = [
    "DROP INDEX IF EXISTS search_message_vector",
    "ALTER TABLE chat_message DROP COLUMN IF EXISTS search_vector",
]

# FTS5 keeps its own copy of the text (for snippets) rather than reading
# chat_message: a view or external content would break Django's table rebuilds
# and silently corrupt on any mismatch. Beside the text it indexes tags naming the
# author and room ("u12 r34"), so from: and in: narrow the match inside FTS5
# instead of after it (a common word by one author would otherwise walk the
# word's whole list).
SQLITE_TABLE = f"""
    CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(
        text, tags, tokenize='porter unicode61 remove_diacritics 0'
    )
"""
_TAGS = "'u' || {row}.user_id || ' r' || {row}.room_id"
# Visible messages only: a message leaves the index when it is deleted (hidden).
SQLITE_TRIGGERS = {
    "search_message_inserted": f"""
        CREATE TRIGGER IF NOT EXISTS search_message_inserted AFTER INSERT ON chat_message
        WHEN new.deleted IS NULL BEGIN
            INSERT INTO {FTS_TABLE}(rowid, text, tags)
                VALUES (new.id, new.text, {_TAGS.format(row="new")});
        END
    """,
    "search_message_removed": f"""
        CREATE TRIGGER IF NOT EXISTS search_message_removed AFTER DELETE ON chat_message
        BEGIN
            DELETE FROM {FTS_TABLE} WHERE rowid = old.id;
        END
    """,
    "search_message_changed": f"""
        CREATE TRIGGER IF NOT EXISTS search_message_changed
        AFTER UPDATE OF text, deleted, user_id, room_id ON chat_message BEGIN
            DELETE FROM {FTS_TABLE} WHERE rowid = old.id;
            INSERT INTO {FTS_TABLE}(rowid, text, tags)
                SELECT new.id, new.text, {_TAGS.format(row="new")} WHERE new.deleted IS NULL;
        END
    """,
}


def create(connection: BaseDatabaseWrapper) -> None:
    """Build the index for the connection's engine over every visible message."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for statement in POSTGRES_CREATE:
                cursor.execute(statement)
        elif connection.vendor == "sqlite":
            cursor.execute(SQLITE_TABLE)
            for statement in SQLITE_TRIGGERS.values():
                cursor.execute(statement)
            _rebuild_sqlite(cursor)


def drop(connection: BaseDatabaseWrapper) -> None:
    """Remove the index (the migration's reverse)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for statement in POSTGRES_DROP:
                cursor.execute(statement)
        elif connection.vendor == "sqlite":
            for name in SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")


def ensure(connection: BaseDatabaseWrapper) -> bool:
    """Restore SQLite's triggers if a table rebuild dropped them (then reindex); True if it did."""
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = %s", [FTS_TABLE]
        )
        if not cursor.fetchone()[0]:
            return False  # not migrated yet: the migration builds it
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'chat_message'"
        )
        present = {row[0] for row in cursor.fetchall()}
        if present >= set(SQLITE_TRIGGERS):
            return False
        for statement in SQLITE_TRIGGERS.values():
            cursor.execute(statement)
        _rebuild_sqlite(cursor)
        return True


def _rebuild_sqlite(cursor) -> None:
    """Index every visible message afresh."""
    cursor.execute(f"DELETE FROM {FTS_TABLE}")
    cursor.execute(
        f"INSERT INTO {FTS_TABLE}(rowid, text, tags) "
        f"SELECT id, text, {_TAGS.format(row='chat_message')} FROM chat_message "
        "WHERE deleted IS NULL"
    )
