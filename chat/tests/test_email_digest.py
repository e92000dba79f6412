"""Email digests (SPEC §9), delivered to a real SMTP server (aiosmtpd) started here."""

import email
import socket
from datetime import timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from django.core import signing
from django.core.management import call_command
from django.test import Client

from accounts.tests.factories import UserFactory
from chat import services
from chat.models import Membership, NotificationSettings
from chat.services import notifications
from chat.tests.factories import RoomFactory
from jabber import clock
from jabber.settings import email_settings
from presence.tests.factories import ConnectionFactory

pytestmark = pytest.mark.django_db


class Inbox:
    """What the SMTP server received, as parsed email messages."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def inbox(settings):
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.JABBER_SITE_URL = "https://chat.example"
    settings.JABBER_EMAIL_DIGEST_MINUTES = 15
    settings.JABBER_RATE_BURST = 1000
    yield handler
    controller.stop()


@pytest.fixture
def people(lobby):
    ann = UserFactory(username="ann", email="ann@example.com")
    bob = UserFactory(username="bob", email="bob@example.com")
    services.join_rooms({(ann.id, lobby.id), (bob.id, lobby.id)})
    return ann, bob


def text_of(message: email.message.EmailMessage, kind: str) -> str:
    return message.get_body(preferencelist=(kind,)).get_content()


def test_an_offline_member_gets_one_email_listing_the_mention_with_a_link(inbox, people, lobby):
    _ann, bob = people
    sent = services.send_message(user=bob, room=lobby, body="@ann please look").message
    services.send_message(user=bob, room=lobby, body="no mention here")
    call_command("send_notification_emails")
    (message,) = inbox.messages
    assert message["To"] == "ann@example.com"
    link = f"https://chat.example/chat/lobby/?around={sent.id}"
    plain, html = text_of(message, "plain"), text_of(message, "html")
    assert link in plain and "bob mentioned you in #lobby" in plain
    assert "no mention here" not in plain
    assert f'href="{link}"' in html
    assert "/accounts/unsubscribe/" in message["List-Unsubscribe"]

    call_command("send_notification_emails")
    assert len(inbox.messages) == 1, "idempotent: each message is emailed once"


def test_nobody_is_emailed_while_they_have_an_open_socket_nor_about_what_came_then(
    inbox, people, lobby
):
    ann, bob = people
    connection = ConnectionFactory(user=ann, room_id=lobby.id)
    services.send_message(user=bob, room=lobby, body="@ann while you are here")
    assert notifications.send_digests() == 0
    connection.delete()
    assert notifications.send_digests() == 0, "it arrived while ann was online"
    services.send_message(user=bob, room=lobby, body="@ann now you are away")
    assert notifications.send_digests() == 1
    assert "now you are away" in text_of(inbox.messages[0], "plain")
    assert "while you are here" not in text_of(inbox.messages[0], "plain")


def test_a_message_read_before_the_run_is_not_emailed(inbox, people, lobby):
    ann, bob = people
    services.send_message(user=bob, room=lobby, body="@ann read me")
    services.mark_read(ann, lobby, 1)
    assert notifications.send_digests() == 0
    assert inbox.messages == []


def test_later_emails_wait_for_the_digest_interval(inbox, people, lobby):
    _ann, bob = people
    services.send_message(user=bob, room=lobby, body="@ann first")
    now = clock.utcnow()
    assert notifications.send_digests(now) == 1
    services.send_message(user=bob, room=lobby, body="@ann second")
    assert notifications.send_digests(now + timedelta(minutes=14)) == 0
    assert notifications.send_digests(now + timedelta(minutes=15)) == 1
    assert "second" in text_of(inbox.messages[1], "plain")
    assert "first" not in text_of(inbox.messages[1], "plain")


def test_direct_messages_are_emailed_without_a_mention(inbox, people):
    ann, bob = people
    direct = RoomFactory(name="dm-ann-bob", kind="direct")
    services.join_rooms({(ann.id, direct.id), (bob.id, direct.id)})
    services.send_message(user=bob, room=direct, body="just between us")
    assert notifications.send_digests() == 1
    assert "bob wrote to you in #dm-ann-bob" in text_of(inbox.messages[0], "plain")


def test_no_email_when_turned_off_or_the_room_is_set_to_nothing(inbox, people, lobby):
    ann, bob = people
    Membership.objects.filter(user=ann).update(level=Membership.Level.NOTHING)
    services.send_message(user=bob, room=lobby, body="@ann quiet")
    assert notifications.send_digests() == 0
    Membership.objects.filter(user=ann).update(level=Membership.Level.ALL)
    notifications.set_email_enabled(ann.id, False)
    assert notifications.send_digests() == 0
    assert inbox.messages == []


def test_the_unsubscribe_link_turns_email_off_in_one_click(people):
    ann, _ = people
    response = Client().get(f"/accounts/unsubscribe/{notifications.unsubscribe_token(ann.id)}/")
    assert response.status_code == 200
    assert not NotificationSettings.objects.get(user=ann).email


def test_a_one_click_post_from_a_mail_client_needs_no_csrf_token(people):
    ann, _ = people
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/accounts/unsubscribe/{notifications.unsubscribe_token(ann.id)}/")
    assert response.status_code == 200
    assert not notifications.email_enabled(ann.id)


@pytest.mark.parametrize(
    "token",
    [
        "1:forged",
        signing.TimestampSigner(salt="another.salt").sign("1"),
        "nonsense",
    ],
)
def test_a_forged_unsubscribe_link_changes_nothing_and_says_so(people, token):
    ann, _ = people
    response = Client().get(f"/accounts/unsubscribe/{token.replace('1', str(ann.id))}/")
    assert response.status_code == 400
    assert b"not valid" in response.content
    assert notifications.email_enabled(ann.id)


def test_an_expired_unsubscribe_link_changes_nothing(people, monkeypatch):
    ann, _ = people
    token = notifications.unsubscribe_token(ann.id)
    monkeypatch.setattr(notifications, "UNSUBSCRIBE_MAX_AGE", timedelta(seconds=-1))
    assert Client().get(f"/accounts/unsubscribe/{token}/").status_code == 400
    assert notifications.email_enabled(ann.id)


def test_preferences_turn_email_off_and_set_a_rooms_level(people, lobby):
    ann, _ = people
    client = Client()
    client.force_login(ann)
    page = client.get("/accounts/preferences/")
    assert page.status_code == 200 and b'name="level-lobby"' in page.content
    response = client.post("/accounts/preferences/", {"level-lobby": "mentions"})
    assert response.status_code == 302
    assert not notifications.email_enabled(ann.id)
    assert Membership.objects.get(user=ann, room=lobby).level == "mentions"
    client.post("/accounts/preferences/", {"email": "on", "level-lobby": "loud"})
    assert notifications.email_enabled(ann.id)
    assert Membership.objects.get(user=ann, room=lobby).level == "mentions", "no such level"


def test_preferences_need_a_login():
    response = Client().get("/accounts/preferences/")
    assert response.status_code == 302 and "/accounts/login/" in response.headers["Location"]


def test_email_url_smtp_tls_always_uses_starttls():
    found = email_settings("smtp+tls://me%40x.org:p%2Fw@mail.example:2525")
    assert (found["EMAIL_PORT"], found["EMAIL_USE_TLS"], found["EMAIL_USE_SSL"]) == (
        2525, True, False,
    )  # fmt: skip
    assert (found["EMAIL_HOST_USER"], found["EMAIL_HOST_PASSWORD"]) == ("me@x.org", "p/w")
