"""The pages of SPEC §2: lobby, room, redirects, and what reaches the HTML."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.tests.factories import PASSWORD, UserFactory
from chat.models import Room
from chat.tests.factories import BanFactory, MessageFactory, RoomFactory
from presence.tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(ann) -> Client:
    client = Client()
    client.force_login(ann)
    return client


def test_root_redirects_to_the_lobby():
    response = Client().get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/chat/"


def test_lobby_lists_rooms_by_last_activity_with_online_counts(client, ann):
    now = timezone.now()
    quiet = RoomFactory(name="quiet", last_activity=now - timedelta(days=2))
    busy = RoomFactory(name="busy", last_activity=now)
    bob = UserFactory(username="bob")
    ConnectionFactory(room_id=busy.id, user=ann)
    ConnectionFactory(room_id=busy.id, user=ann)
    ConnectionFactory(room_id=busy.id, user=bob)
    response = client.get("/chat/")
    assert response.status_code == 200
    rooms = list(response.context["rooms"])
    assert [room.name for room in rooms] == ["busy", "quiet"]
    assert [room.online_count for room in rooms] == [2, 0]
    html = response.content.decode()
    assert html.index("/chat/busy/") < html.index("/chat/quiet/")
    assert quiet.name in html


def test_join_form_normalises_the_name_and_redirects(client):
    response = client.post("/chat/", {"room": "  Team-Chat "})
    assert response.status_code == 302 and response.headers["Location"] == "/chat/team-chat/"


@pytest.mark.parametrize("name", ["", "has space", "dots.not.allowed", "x" * 65, "ümlaut"])
def test_join_form_explains_bad_names(client, name):
    response = client.post("/chat/", {"room": name})
    assert response.status_code == 200
    assert response.context["form"].errors["room"]
    assert not Room.objects.exists()


def test_visiting_a_valid_name_creates_the_room(client):
    response = client.get("/chat/new_room-1/")
    assert response.status_code == 200
    assert Room.objects.filter(name="new_room-1").exists()


def test_upper_case_redirects_to_lower_case(client):
    response = client.get("/chat/Lobby/")
    assert response.status_code == 302 and response.headers["Location"] == "/chat/lobby/"


@pytest.mark.parametrize(
    "path", ["/chat/a.b/", "/chat/%2E%2E/", "/chat/caf%C3%A9/", "/chat/" + "a" * 65 + "/"]
)
def test_invalid_room_names_are_404(client, path):
    assert client.get(path).status_code == 404
    assert not Room.objects.exists()


def test_room_renders_the_last_50_messages_escaped(client, ann):
    room = RoomFactory(name="lobby")
    for n in range(55):
        MessageFactory(room=room, user=ann, body=f"message number {n}")
    MessageFactory(room=room, user=ann, body="<script>alert('x')</script>")
    html = client.get("/chat/lobby/").content.decode()
    assert "message number 5<" not in html and "message number 6<" in html
    assert "<script>alert" not in html
    assert "<p>&lt;script&gt;alert('x')&lt;/script&gt;</p>" in html, "raw HTML shows as text"


def test_room_page_hides_deleted_messages(client, ann):
    room = RoomFactory(name="lobby")
    MessageFactory(room=room, user=ann, body="visible words")
    MessageFactory(room=room, user=ann, body="removed words", deleted=timezone.now())
    html = client.get("/chat/lobby/").content.decode()
    assert "visible words" in html and "removed words" not in html


def test_room_page_passes_config_as_json_not_script(client, ann):
    room = RoomFactory(name="lobby")
    message = MessageFactory(room=room, user=ann)
    response = client.get("/chat/lobby/")
    config = response.context["config"]
    assert config["lastId"] == message.id and config["lastSeq"] == 1
    assert config["wsPath"] == "/ws/chat/lobby/"
    assert 'type="application/json"' in response.content.decode()


def test_banned_user_cannot_read_the_room_over_http(client, ann):
    room = RoomFactory(name="lobby")
    MessageFactory(room=room, body="members only")
    BanFactory(user=ann, room=room, reason="spam")
    response = client.get("/chat/lobby/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "members only" not in html and "spam" in html


def test_expired_ban_lets_the_user_back_in(client, ann):
    room = RoomFactory(name="lobby")
    BanFactory(user=ann, room=room, expires=timezone.now() - timedelta(minutes=1))
    assert client.get("/chat/lobby/").status_code == 200


def test_failed_logins_are_rate_limited():
    UserFactory(username="bob")
    client = Client()
    for _ in range(5):
        client.post("/accounts/login/", {"login": "bob", "password": "wrong"})
    response = client.post("/accounts/login/", {"login": "bob", "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert b"Too many failed login attempts" in response.content
