"""Rich messages: rendered Markdown, mentions of members, replies, reactions, links to a message."""

import pytest
from channels.db import database_sync_to_async

from accounts.tests.factories import UserFactory
from chat import selectors, services
from chat.models import Message, Reaction
from chat.services import ChatError
from chat.tests.factories import MembershipFactory, MessageFactory, RoomFactory
from tests.support.unit import open_socket

pytestmark = pytest.mark.django_db(transaction=True)


def send(user, room, body, **fields):
    return services.send_message(user=user, room=room, body=body, **fields).message


# Formatting and mentions ------------------------------------------------------


def test_a_message_is_stored_with_its_rendering(ann, lobby):
    message = send(ann, lobby, "see **this**: https://example.com/a?b=1 and `code`")
    assert message.html == (
        '<p>see <strong>this</strong>: <a href="https://example.com/a?b=1" '
        'target="_blank" rel="nofollow noopener noreferrer">https://example.com/a?b=1</a> '
        "and <code>code</code></p>"
    )
    assert Message.objects.get(pk=message.pk).html == message.html


def test_raw_html_in_a_body_is_shown_as_text(ann, lobby):
    message = send(ann, lobby, '<img src=x onerror="alert(1)">')
    assert "<img" not in message.html and "&lt;img" in message.html


def test_members_are_mentioned_and_others_stay_plain_text(ann, bob, lobby):
    MembershipFactory(user=bob, room=lobby)
    UserFactory(username="carol")  # not a member of the lobby
    message = send(ann, lobby, "hi @BOB and @carol")
    assert message.mentions == [bob.id]
    assert f'<span class="mention" data-user-id="{bob.id}">@BOB</span>' in message.html
    assert "@carol" in message.html and "data-user-id" not in message.html.split("@carol")[1]


def test_an_inactive_member_is_not_mentioned(ann, bob, lobby):
    MembershipFactory(user=bob, room=lobby)
    bob.is_active = False
    bob.save()
    assert send(ann, lobby, "@bob?").mentions == []


def test_editing_recomputes_mentions(ann, bob, lobby):
    carol = UserFactory(username="carol")
    for user in (bob, carol):
        MembershipFactory(user=user, room=lobby)
    message = send(ann, lobby, "@bob look")
    edited = services.edit_message(user=ann, room=lobby, message_id=message.id, body="@carol look")
    assert edited.mentions == [carol.id]
    assert "@carol" in Message.objects.get(pk=message.pk).html


def test_opening_a_room_makes_you_a_member_you_can_be_mentioned_as(client, ann, bob, lobby):
    client.force_login(bob)
    assert client.get("/chat/lobby/").status_code == 200
    assert send(ann, lobby, "@bob").mentions == [bob.id]


# Replies --------------------------------------------------------------------


def test_a_reply_carries_the_originals_author_and_excerpt(ann, bob, lobby):
    original = send(bob, lobby, "**" + "x" * 150 + "**")
    reply = send(ann, lobby, "agreed", reply_to=original.id)
    payload = selectors.message_payload(reply.id)
    assert payload["reply_to"] == {
        "id": original.id,
        "user": {"id": bob.id, "username": "bob"},
        "excerpt": "x" * 100,
        "deleted": False,
    }


def test_a_reply_to_another_rooms_message_is_not_found_and_stores_nothing(ann, lobby):
    elsewhere = send(ann, RoomFactory(name="elsewhere"), "there")
    with pytest.raises(ChatError) as refused:
        send(ann, lobby, "here", reply_to=elsewhere.id, client_id="c-1")
    assert (refused.value.code, refused.value.client_id) == ("not_found", "c-1")
    assert not Message.objects.filter(room=lobby).exists()


def test_a_reply_to_a_deleted_message_is_not_found(ann, lobby):
    original = send(ann, lobby, "oops")
    services.delete_message(actor=ann, room=lobby, message_id=original.id)
    with pytest.raises(ChatError, match="reply"):
        send(ann, lobby, "re", reply_to=original.id)


def test_once_the_original_is_deleted_a_reply_says_so_without_its_text(ann, bob, lobby):
    original = send(bob, lobby, "secret")
    reply = send(ann, lobby, "what?", reply_to=original.id)
    services.delete_message(actor=bob, room=lobby, message_id=original.id)
    assert selectors.message_payload(reply.id)["reply_to"]["excerpt"] == ""
    assert selectors.message_payload(reply.id)["reply_to"]["deleted"] is True


async def test_a_reply_over_the_socket_is_broadcast_with_its_quote(ann, bob, lobby):
    a, _ = await open_socket(ann, "lobby")
    b, _ = await open_socket(bob, "lobby")
    await b.send({"type": "message", "body": "question?"})
    question = await a.receive_type("message")
    await a.send({"type": "message", "body": "answer", "reply_to": question["id"]})
    answer = await b.receive_type("message", body="answer")
    assert answer["reply_to"]["id"] == question["id"]
    assert answer["reply_to"]["excerpt"] == "question?"
    await a.close()
    await b.close()


async def test_a_reply_to_a_bad_id_is_refused_on_the_socket(ann, lobby):
    a, _ = await open_socket(ann, "lobby")
    for reply_to in (10**9, "1", -1):
        request = {"type": "message", "body": "x", "reply_to": reply_to, "request_id": "r-1"}
        await a.send({**request, "client_id": "c-1"})
        error = await a.receive_type("error")
        assert error["code"] in ("not_found", "bad_request")
        assert (error["client_id"], error["request_id"]) == ("c-1", "r-1")
    assert await database_sync_to_async(Message.objects.count)() == 0
    await a.close()


# Reactions ------------------------------------------------------------------


async def test_a_reaction_is_broadcast_with_its_count(ann, bob, lobby):
    a, _ = await open_socket(ann, "lobby")
    b, _ = await open_socket(bob, "lobby")
    await a.send({"type": "message", "body": "ship it?"})
    message = await b.receive_type("message")
    await b.send({"type": "react", "id": message["id"], "emoji": "👍"})
    reaction = await a.receive_type("reaction")
    assert reaction == {
        "type": "reaction",
        "id": message["id"],
        "emoji": "👍",
        "user": {"id": bob.id, "username": "bob"},
        "added": True,
        "count": 1,
    }
    await b.send({"type": "unreact", "id": message["id"], "emoji": "👍"})
    assert (await a.receive_type("reaction"))["count"] == 0
    await a.close()
    await b.close()


async def test_a_repeated_reaction_changes_nothing_and_only_the_sender_hears(ann, bob, lobby):
    message = await database_sync_to_async(send)(ann, lobby, "hi")
    a, _ = await open_socket(ann, "lobby")
    b, _ = await open_socket(bob, "lobby")
    await b.receive_type("presence")
    await a.send({"type": "react", "id": message.id, "emoji": "🎉"})
    await b.receive_type("reaction")
    await a.send({"type": "react", "id": message.id, "emoji": "🎉", "request_id": "r-9"})
    again = await a.receive_type("reaction", request_id="r-9")
    assert (again["added"], again["count"]) == (True, 1)
    await b.roundtrip()
    assert await b.nothing_more()
    assert await database_sync_to_async(Reaction.objects.count)() == 1
    await a.close()
    await b.close()


@pytest.mark.parametrize("emoji", ["a", "👍👍", "❤", "", "x" * 40, 7, None])
async def test_a_reaction_that_is_not_one_emoji_is_a_bad_request(ann, lobby, emoji):
    message = await database_sync_to_async(send)(ann, lobby, "hi")
    a, _ = await open_socket(ann, "lobby")
    await a.send({"type": "react", "id": message.id, "emoji": emoji})
    assert (await a.receive_type("error"))["code"] == "bad_request"
    assert await database_sync_to_async(Reaction.objects.count)() == 0
    await a.close()


def test_one_emoji_sequences_of_every_kind_are_accepted(ann, lobby):
    message = send(ann, lobby, "hi")
    for emoji in ["👍", "❤️", "👍🏽", "👨‍👩‍👧", "🇫🇷", "1️⃣"]:
        services.react(user=ann, room=lobby, message_id=message.id, emoji=emoji)
    assert selectors.message_payload(message.id)["reactions"][1] == {
        "emoji": "❤️",
        "count": 1,
        "users": [ann.id],
    }


def test_reactions_are_listed_in_the_order_each_emoji_first_appeared(ann, bob, lobby):
    message = send(ann, lobby, "hi")
    for user, emoji in [(ann, "🎉"), (bob, "👍"), (bob, "🎉")]:
        services.react(user=user, room=lobby, message_id=message.id, emoji=emoji)
    assert selectors.message_payload(message.id)["reactions"] == [
        {"emoji": "🎉", "count": 2, "users": [ann.id, bob.id]},
        {"emoji": "👍", "count": 1, "users": [bob.id]},
    ]


def test_the_21st_different_emoji_on_a_message_is_too_many(ann, lobby, settings):
    settings.JABBER_REACTION_BURST = 100
    message = send(ann, lobby, "hi")
    emoji = ["😀", "😃", "😄", "😁", "😆", "😅", "🤣", "😂", "🙂", "🙃"]
    emoji += ["😉", "😊", "😇", "🥰", "😍", "🤩", "😘", "😗", "😚", "😙", "😋"]
    for each in emoji[:20]:
        services.react(user=ann, room=lobby, message_id=message.id, emoji=each)
    with pytest.raises(ChatError) as refused:
        services.react(user=ann, room=lobby, message_id=message.id, emoji=emoji[20])
    assert refused.value.code == "too_many"
    # An emoji already there can still be added by someone else.
    services.react(user=UserFactory(), room=lobby, message_id=message.id, emoji=emoji[0])


@pytest.mark.parametrize("case", ["deleted", "other_room", "muted", "locked"])
def test_reactions_are_refused_like_sends(ann, bob, lobby, case):
    message = send(ann, lobby, "hi")
    room = lobby
    if case == "deleted":
        services.delete_message(actor=ann, room=lobby, message_id=message.id)
    elif case == "other_room":
        room = RoomFactory(name="other")
    elif case == "muted":
        services.mute_user(actor=None, user=bob, room=lobby)
    else:
        services.set_room_locked(lobby, True)
    with pytest.raises(ChatError) as refused:
        services.react(user=bob, room=room, message_id=message.id, emoji="👍")
    expected = {"deleted": "not_found", "other_room": "not_found"}
    assert refused.value.code == expected.get(case, {"muted": "muted"}.get(case, "room_locked"))
    assert not Reaction.objects.exists()


def test_reactions_have_their_own_rate_limit(ann, lobby, settings):
    settings.JABBER_REACTION_BURST = 2
    settings.JABBER_REACTION_PER_SECOND = 0.001
    message = send(ann, lobby, "hi")
    services.react(user=ann, room=lobby, message_id=message.id, emoji="👍")
    services.react(user=ann, room=lobby, message_id=message.id, emoji="🎉")
    with pytest.raises(ChatError) as refused:
        services.react(user=ann, room=lobby, message_id=message.id, emoji="🔥")
    assert refused.value.code == "rate_limited" and refused.value.retry_after > 0


# Links to a message ----------------------------------------------------------


async def test_history_around_a_message_is_centred_on_it(ann, lobby, settings):
    settings.JABBER_RATE_BURST = 100
    ids = [
        (await database_sync_to_async(send)(ann, lobby, f"m{n}", client_id=f"c{n}")).id
        for n in range(11)
    ]
    a, _ = await open_socket(ann, "lobby")
    await a.send({"type": "history", "around": ids[5], "limit": 5, "request_id": "r-1"})
    page = await a.receive_type("history")
    assert [m["id"] for m in page["messages"]] == ids[3:8]
    assert (page["has_more_before"], page["has_more_after"], page["request_id"]) == (
        True,
        True,
        "r-1",
    )
    await a.send({"type": "history", "around": ids[0], "limit": 5})
    page = await a.receive_type("history")
    assert [m["id"] for m in page["messages"]] == ids[0:3]
    assert (page["has_more_before"], page["has_more_after"]) == (False, True)
    await a.close()


def test_the_room_page_opens_around_a_linked_message(client, ann, lobby, settings):
    settings.JABBER_HISTORY_PAGE = 5
    messages = [MessageFactory(room=lobby, user=ann, body=f"number {n}") for n in range(20)]
    client.force_login(ann)
    page = client.get(f"/chat/lobby/?around={messages[3].id}").content.decode()
    assert "number 3<" in page and "number 19<" not in page
    for bad in ["x", "-1", "²", "9" * 40]:
        assert client.get(f"/chat/lobby/?around={bad}").status_code == 200
