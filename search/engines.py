"""The text search itself, once per engine: PostgreSQL full-text search or SQLite FTS5.

Each takes a parsed query (search.query, tokens only) and the messages the
searcher may see (`Scope`), and answers the ids of the newest matches with their
snippets, the matched words between MARK_START and MARK_END (made safe HTML by
search.snippets). Messages without a text term are found the same way on both.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchVectorField
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Left

from chat.models import Message, Room
from search.index import FTS_TABLE
from search.query import Query, fts5_phrases

# Control characters never survive into a message's text (chat.services.messages.clean_body).
MARK_START = "\x01"
MARK_END = "\x02"
SNIPPET_WORDS = 24
PLAIN_SNIPPET = 200


@dataclass(frozen=True)
class Scope:
    """Which messages are searched: visible ones in these rooms, by these authors, older than."""

    rooms: QuerySet[Room]
    author_ids: tuple[int, ...] | None = None
    before: int | None = None
    # The rooms named by in:, if any (already among `rooms`).
    room_ids: tuple[int, ...] | None = None

    def messages(self) -> QuerySet[Message]:
        found = Message.objects.filter(deleted__isnull=True, room__in=self.rooms.values("pk"))
        if self.author_ids is not None:
            found = found.filter(user_id__in=self.author_ids)
        if self.before is not None:
            found = found.filter(id__lt=self.before)
        return found


def find(query: Query, scope: Scope, limit: int) -> list[tuple[int, str]]:
    """The newest `limit` matches as (message id, marked snippet), newest first."""
    if connection.vendor == "postgresql":
        return _postgres(query, scope, limit)
    return _sqlite(query, scope, limit)


# ------------------------------------------------------------------ PostgreSQL


def _vector() -> RawSQL:
    return RawSQL('"chat_message"."search_vector"', [], output_field=SearchVectorField())


def _phrase_postgres(phrase: tuple[str, ...]) -> SearchQuery:
    # plainto/phraseto_tsquery read their argument as text, never as tsquery syntax.
    kind = "phrase" if len(phrase) > 1 else "plain"
    return SearchQuery(" ".join(phrase), config="english", search_type=kind)


def _all_postgres(phrases: tuple[tuple[str, ...], ...]) -> SearchQuery:
    combined = _phrase_postgres(phrases[0])
    for phrase in phrases[1:]:
        combined &= _phrase_postgres(phrase)
    return combined


def _any_postgres(phrases: tuple[tuple[str, ...], ...]) -> SearchQuery:
    combined = _phrase_postgres(phrases[0])
    for phrase in phrases[1:]:
        combined |= _phrase_postgres(phrase)
    return combined


def _postgres(query: Query, scope: Scope, limit: int) -> list[tuple[int, str]]:
    found = scope.messages().annotate(search_vector=_vector())
    if query.excluded:
        found = found.exclude(search_vector=_any_postgres(query.excluded))
    if not query.has_text:
        # Only from:/in: (and -words): each snippet is the start of the text.
        rows = found.order_by("-id").annotate(start=Left("text", PLAIN_SNIPPET))[:limit]
        return list(rows.values_list("id", "start"))
    wanted = _all_postgres(query.phrases)
    found = found.filter(search_vector=wanted)
    ids = list(found.order_by("-id").values_list("id", flat=True)[:limit])
    # Headlines in a second query, so they are made for the page's rows only.
    headlines = dict(
        Message.objects.filter(id__in=ids)
        .annotate(
            snippet=SearchHeadline(
                "text",
                wanted,
                config="english",
                start_sel=MARK_START,
                stop_sel=MARK_END,
                max_words=SNIPPET_WORDS,
                min_words=SNIPPET_WORDS // 2,
            )
        )
        .values_list("id", "snippet")
    )
    return [(message_id, headlines[message_id]) for message_id in ids]


# ---------------------------------------------------------------------- SQLite


def _sqlite(query: Query, scope: Scope, limit: int) -> list[tuple[int, str]]:
    expression = _fts5_match(query, scope)
    try:
        rooms_sql, rooms_params = scope.rooms.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # no readable room at all (an inactive user)
        return []
    conditions = [f"{FTS_TABLE} MATCH %s", "m.deleted IS NULL", f"m.room_id IN ({rooms_sql})"]
    params: list = [expression, *rooms_params]
    if scope.before is not None:
        conditions.append(f"{FTS_TABLE}.rowid < %s")
        params.append(scope.before)
    params.append(limit)
    # FTS5 walks its matches newest first (ORDER BY rowid DESC) and stops at the limit.
    # Without a text term, snippet() gives the start of the text.
    sql = (
        f"SELECT m.id, snippet({FTS_TABLE}, 0, %s, %s, '…', %s) "
        f"FROM {FTS_TABLE} JOIN chat_message m ON m.id = {FTS_TABLE}.rowid "
        f"WHERE {' AND '.join(conditions)} ORDER BY {FTS_TABLE}.rowid DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [MARK_START, MARK_END, SNIPPET_WORDS, *params])
        return [(row[0], row[1]) for row in cursor.fetchall()]


def _fts5_match(query: Query, scope: Scope) -> str:
    """The whole query as one FTS5 expression: text phrases, then author and room tags."""
    required = [f"text : {phrase}" for phrase in fts5_phrases(query.phrases)]
    if scope.author_ids is not None:
        required.append(_tags("u", scope.author_ids))
    if scope.room_ids is not None:
        required.append(_tags("r", scope.room_ids))
    expression = " AND ".join(required)
    if query.excluded:
        excluded = " OR ".join(f"text : {phrase}" for phrase in fts5_phrases(query.excluded))
        expression = f"({expression}) NOT ({excluded})"
    return expression


def _tags(prefix: str, ids: tuple[int, ...]) -> str:
    # A tag that no message carries when the list is empty (from: an unknown user).
    tags = " OR ".join(f'"{prefix}{int(value)}"' for value in ids) or f'"{prefix}0"'
    return f"tags : ({tags})"
