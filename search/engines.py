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
from search.query import Query, fts5_any, fts5_expression

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

    def messages(self) -> QuerySet[Message]:
        found = Message.objects.filter(deleted__isnull=True, room__in=self.rooms.values("pk"))
        if self.author_ids is not None:
            found = found.filter(user_id__in=self.author_ids)
        if self.before is not None:
            found = found.filter(id__lt=self.before)
        return found


def find(query: Query, scope: Scope, limit: int) -> list[tuple[int, str]]:
    """The newest `limit` matches as (message id, marked snippet), newest first."""
    if not query.has_text:
        return _without_text(query, scope, limit)
    if connection.vendor == "postgresql":
        return _postgres(query, scope, limit)
    return _sqlite(query, scope, limit)


def _without_text(query: Query, scope: Scope, limit: int) -> list[tuple[int, str]]:
    """Only from:/in: (and -words): the newest messages, each snippet the start of its text."""
    found = scope.messages()
    if query.excluded:
        if connection.vendor == "postgresql":
            found = found.annotate(search_vector=_vector()).exclude(
                search_vector=_any_postgres(query.excluded)
            )
        else:
            found = found.exclude(
                id__in=RawSQL(
                    f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s",
                    [fts5_any(query.excluded)],
                )
            )
    rows = found.order_by("-id").annotate(start=Left("text", PLAIN_SNIPPET))[:limit]
    return list(rows.values_list("id", "start"))


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
    wanted = _all_postgres(query.phrases)
    found = scope.messages().annotate(search_vector=_vector()).filter(search_vector=wanted)
    if query.excluded:
        found = found.exclude(search_vector=_any_postgres(query.excluded))
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
    expression = fts5_expression(query.phrases)
    if query.excluded:
        expression = f"({expression}) NOT ({fts5_any(query.excluded)})"
    try:
        rooms_sql, rooms_params = scope.rooms.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # no readable room at all (an inactive user)
        return []
    conditions = [f"{FTS_TABLE} MATCH %s", "m.deleted IS NULL", f"m.room_id IN ({rooms_sql})"]
    params: list = [expression, *rooms_params]
    if scope.author_ids is not None:
        conditions.append(f"m.user_id IN ({', '.join(['%s'] * len(scope.author_ids)) or 'NULL'})")
        params.extend(scope.author_ids)
    if scope.before is not None:
        conditions.append(f"{FTS_TABLE}.rowid < %s")
        params.append(scope.before)
    params.append(limit)
    # FTS5 walks its matches newest first (ORDER BY rowid DESC) and stops at the limit.
    sql = (
        f"SELECT m.id, snippet({FTS_TABLE}, 0, %s, %s, '…', %s) "
        f"FROM {FTS_TABLE} JOIN chat_message m ON m.id = {FTS_TABLE}.rowid "
        f"WHERE {' AND '.join(conditions)} ORDER BY {FTS_TABLE}.rowid DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [MARK_START, MARK_END, SNIPPET_WORDS, *params])
        return [(row[0], row[1]) for row in cursor.fetchall()]
