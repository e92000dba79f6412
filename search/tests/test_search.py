"""Search on whichever engine this run has: SQLite in `make test`, PostgreSQL in `make test-prod`.

Every expectation is written once, so the two runs prove the engines give the
same results for every query form.
"""

import re

import pytest
from django.db import connection

from chat import services
from chat.models import Ban, Room
from chat.tests.factories import MembershipFactory, MessageFactory, RoomFactory
from search import selectors
from search.index import FTS_TABLE

pytestmark = pytest.mark.django_db

TEXTS = {
    "cat": ("ann", "general", "The cat sat on the mat"),
    "cats": ("bob", "general", "Cats are running in the garden"),
    "dog": ("bob", "random", "A quick brown fox jumps over the lazy dog"),
    "fox": ("ann", "random", "The brown quick fox"),
    "host": ("ann", "general", "Deploy to example.com tonight"),
    "markup": ("bob", "general", "<script>alert(1)</script> cat & mouse"),
    "secret": ("bob", "secret", "The cat plan is secret"),
    "banned": ("bob", "banned", "A cat in the banned room"),
    "direct": ("bob", "dm-ann-bob", "Your cat called"),
}


@pytest.fixture
def corpus(ann, bob):
    """The messages above, in order, in public, private, direct and banned rooms; by key."""
    users = {"ann": ann, "bob": bob}
    rooms = {
        "general": RoomFactory(name="general"),
        "random": RoomFactory(name="random"),
        "secret": RoomFactory(name="secret", kind=Room.Kind.PRIVATE),
        "banned": RoomFactory(name="banned"),
        "dm-ann-bob": RoomFactory(name="dm-ann-bob", kind=Room.Kind.DIRECT),
    }
    MembershipFactory(user=bob, room=rooms["secret"])
    MembershipFactory(user=ann, room=rooms["dm-ann-bob"])
    MembershipFactory(user=bob, room=rooms["dm-ann-bob"])
    Ban.objects.create(user=ann, room=rooms["banned"])
    return {
        key: MessageFactory(user=users[author], room=rooms[room], body=body)
        for key, (author, room, body) in TEXTS.items()
    }


def found(user, text: str) -> list[str]:
    """The keys of the messages a search finds, newest first."""
    page = selectors.search(user, text)
    by_id = {message.id: key for key, message in CORPUS.items()}
    return [by_id.get(result.message["id"], "?") for result in page.results]


CORPUS: dict = {}


@pytest.fixture(autouse=True)
def _remember(request):
    CORPUS.clear()
    if "corpus" in request.fixturenames:
        CORPUS.update(request.getfixturevalue("corpus"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cat", ["direct", "markup", "cats", "cat"]),
        ("CAT", ["direct", "markup", "cats", "cat"]),
        ("run", ["cats"]),
        ("running garden", ["cats"]),
        ('"quick brown fox"', ["dog"]),
        ('"brown quick"', ["fox"]),
        ("quick fox", ["fox", "dog"]),
        ("fox -lazy", ["fox"]),
        ('fox -"lazy dog"', ["fox"]),
        ("from:bob cat", ["direct", "markup", "cats"]),
        ("from:BOB in:general", ["markup", "cats"]),
        ("in:random", ["fox", "dog"]),
        ("in:random in:general -cat", ["host", "fox", "dog"]),
        ("from:ann", ["host", "fox", "cat"]),
        ("example.com", ["host"]),
        ("example", ["host"]),
        ("script", ["markup"]),
        ("zebra", []),
        ("from:nobody cat", []),
        ("the", []),
        ("-cat", []),
        ("", []),
    ],
)
def test_query_forms_find_the_same_messages_on_every_engine(corpus, ann, text, expected):
    assert found(ann, text) == expected


def test_private_rooms_are_searched_by_their_members_only(corpus, ann, bob):
    assert found(ann, "in:secret") == []
    assert found(bob, "secret plan") == ["secret"]


def test_a_banned_room_is_not_searched(corpus, ann, bob):
    assert found(ann, "banned") == []
    assert found(bob, "banned") == ["banned"]


def test_deleted_messages_are_never_found(corpus, ann):
    services.delete_message(actor=ann, room=corpus["cat"].room, message_id=corpus["cat"].id)
    assert found(ann, "cat") == ["direct", "markup", "cats"]
    assert found(ann, "from:ann mat") == []


def test_an_edit_is_found_by_its_new_words_only(corpus, ann):
    message = corpus["cat"]
    services.edit_message(user=ann, room=message.room, message_id=message.id, body="A parrot")
    assert found(ann, "parrot") == ["cat"]
    assert found(ann, "mat") == []


def test_inactive_users_find_nothing(corpus, ann):
    ann.is_active = False
    ann.save()
    assert found(ann, "cat") == []


def test_snippet_marks_matched_words_and_escapes_the_rest(corpus, ann):
    (result,) = selectors.search(ann, "mouse").results
    # PostgreSQL's headline drops what looks like a tag; FTS5 keeps it, escaped.
    assert "<script" not in result.snippet
    assert "cat &amp; <mark>mouse</mark>" in result.snippet
    assert re.findall(r"<mark>(.*?)</mark>", result.snippet) == ["mouse"]


def test_snippet_marks_stemmed_forms(corpus, ann):
    page = selectors.search(ann, "cat in:general")
    marked = [re.findall(r"<mark>(.*?)</mark>", r.snippet) for r in page.results]
    assert marked == [["cat"], ["Cats"], ["cat"]]


def test_results_carry_the_message_payload(corpus, ann):
    (result,) = selectors.search(ann, "tonight").results
    message = result.message
    assert (message["id"], message["room"], message["user"]["username"]) == (
        corpus["host"].id,
        "general",
        "ann",
    )
    assert message["created"].endswith("Z")


def test_pages_of_twenty_newest_first_with_a_cursor(ann, lobby):
    ids = [MessageFactory(user=ann, room=lobby, body=f"ping {n}").id for n in range(25)]
    first = selectors.search(ann, "ping")
    assert [r.message["id"] for r in first.results] == ids[::-1][:20]
    second = selectors.search(ann, "ping", first.next)
    assert [r.message["id"] for r in second.results] == ids[::-1][20:]
    assert second.next is None


def test_filter_only_queries_page_too(ann, lobby):
    ids = [MessageFactory(user=ann, room=lobby, body=f"ping {n}").id for n in range(21)]
    first = selectors.search(ann, "in:lobby")
    second = selectors.search(ann, "in:lobby", first.next)
    assert [r.message["id"] for r in first.results + second.results] == ids[::-1]


@pytest.mark.parametrize("cursor", ["", "garbage", "bQ", "bS0x", "=", "x" * 100, "\x00"])
def test_a_bad_cursor_starts_from_the_newest(ann, lobby, cursor):
    message = MessageFactory(user=ann, room=lobby, body="ping")
    assert [r.message["id"] for r in selectors.search(ann, "ping", cursor).results] == [message.id]


def test_messages_stored_before_the_index_are_indexed_by_the_migration(ann, lobby):
    from search import index

    message = MessageFactory(user=ann, room=lobby, body="ancient scrolls")
    if connection.vendor == "postgresql":
        # ALTER TABLE waits for no deferred foreign-key check (the migration has none pending).
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    index.drop(connection)
    index.create(connection)
    assert [r.message["id"] for r in selectors.search(ann, "scroll").results] == [message.id]


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_sqlite_restores_triggers_a_table_rebuild_dropped(ann, lobby):
    from search import index

    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER search_message_inserted")
    assert index.ensure(connection)
    message = MessageFactory(user=ann, room=lobby, body="phoenix")
    assert [r.message["id"] for r in selectors.search(ann, "phoenix").results] == [message.id]
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('integrity-check', 1)")


@pytest.mark.skipif("connection.vendor != 'sqlite'")
@pytest.mark.django_db(transaction=True)
def test_sqlite_index_survives_django_rebuilding_the_message_table(ann, lobby):
    from django.core.management import call_command

    from chat.models import Message

    before = MessageFactory(user=ann, room=lobby, body="phoenix rising")
    # What a chat migration that alters Message does on SQLite: copy, drop, rename.
    with connection.schema_editor() as editor:
        editor._remake_table(Message)
    call_command("migrate", verbosity=0)  # post_migrate restores the triggers
    after = MessageFactory(user=ann, room=lobby, body="phoenix again")
    assert [r.message["id"] for r in selectors.search(ann, "phoenix").results] == [
        after.id,
        before.id,
    ]
