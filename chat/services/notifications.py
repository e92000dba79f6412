"""Email digests of unread mentions and direct messages (SPEC §9), and turning them off.

`send_digests` is what `manage.py send_notification_emails` runs every minute.
It is idempotent: each message is emailed at most once (a per-user high-water
id), each user at most once per JABBER_EMAIL_DIGEST_MINUTES, and only about
messages still unread that arrived while the user had no open socket (as seen by
the previous runs: the command notes who is online each time it runs).
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from chat.models import Membership, Mention, Message, NotificationSettings, Room
from jabber import clock
from presence.models import Connection

UNSUBSCRIBE_SALT = "jabber.unsubscribe"
UNSUBSCRIBE_MAX_AGE = timedelta(days=60)
# Older unread messages are not news: each run looks back this far, no further.
LOOK_BACK = timedelta(days=7)


@dataclass(frozen=True)
class Missed:
    """One message a digest lists."""

    id: int
    room: str
    author: str
    text: str
    mention: bool
    url: str


def unsubscribe_token(user_id: int) -> str:
    return signing.TimestampSigner(salt=UNSUBSCRIBE_SALT).sign(str(user_id))


def unsubscribe(token: str) -> bool:
    """Turn email off for the user a signed link names; False (nothing changed) when forged or
    expired."""
    try:
        value = signing.TimestampSigner(salt=UNSUBSCRIBE_SALT).unsign(
            token, max_age=UNSUBSCRIBE_MAX_AGE
        )
    except signing.BadSignature:
        return False
    if not value.isdigit() or not get_user_model().objects.filter(pk=int(value)).exists():
        return False
    set_email_enabled(int(value), False)
    return True


def set_email_enabled(user_id: int, enabled: bool) -> None:
    settings_, _ = NotificationSettings.objects.get_or_create(user_id=user_id)
    if settings_.email != enabled:
        NotificationSettings.objects.filter(pk=user_id).update(email=enabled)


def email_enabled(user_id: int) -> bool:
    row = NotificationSettings.objects.filter(pk=user_id).values_list("email", flat=True).first()
    return True if row is None else row


def set_level(user, room_name: str, level: str) -> bool:
    """Set the notification level of one of the user's rooms; False if not a member or no
    such level."""
    if level not in Membership.Level.values:
        return False
    return bool(Membership.objects.filter(user=user, room__name=room_name).update(level=level))


def _note_who_is_online(now) -> set[int]:
    online = set(Connection.objects.values_list("user_id", flat=True).distinct())
    NotificationSettings.objects.bulk_create(
        [NotificationSettings(user_id=user_id) for user_id in online], ignore_conflicts=True
    )
    NotificationSettings.objects.filter(user_id__in=online).update(online_until=now)
    return online


def _candidates(online: set[int], since) -> dict[int, list[tuple[Message, bool]]]:
    """Per user: unread mentions of them and direct messages to them not yet considered,
    visible, in rooms not set to `nothing`, that arrived after they were last seen online."""
    found: dict[int, list[tuple[Message, bool]]] = {}
    skip = NotificationSettings.objects.filter(email=False).values("user_id")
    mentions = (
        Mention.objects.filter(message__deleted__isnull=True, message__created__gte=since)
        .exclude(user_id__in=online)
        .exclude(user_id__in=skip)
        .filter(user__is_active=True)
        .exclude(user__email="")
        .select_related("message__user", "message__room")
    )
    for mention in mentions:
        found.setdefault(mention.user_id, []).append((mention.message, True))
    recipients: dict[int, list[int]] = {}
    direct_members = (
        Membership.objects.filter(room__kind=Room.Kind.DIRECT)
        .exclude(user_id__in=online)
        .exclude(user_id__in=skip)
        .values_list("room_id", "user_id")
    )
    for room_id, user_id in direct_members:
        recipients.setdefault(room_id, []).append(user_id)
    direct = Message.objects.filter(
        room_id__in=list(recipients), deleted__isnull=True, created__gte=since
    )
    for message in direct.select_related("user", "room"):
        for user_id in recipients[message.room_id]:
            if user_id != message.user_id:
                found.setdefault(user_id, []).append((message, False))
    return found


def _still_due(user_id: int, pairs: list[tuple[Message, bool]], settings_, now) -> list:
    """Those of a user's candidates to email now: unread, new to email, arrived offline."""
    positions = dict(
        Membership.objects.filter(user_id=user_id, room_id__in={m.room_id for m, _ in pairs})
        .exclude(level=Membership.Level.NOTHING)
        .values_list("room_id", "last_read_seq")
    )
    due = {}
    for message, mention in pairs:
        if message.room_id not in positions or message.seq <= positions[message.room_id]:
            continue
        if message.pk <= settings_.emailed_through:
            continue
        if settings_.online_until and message.created <= settings_.online_until:
            continue
        if message.pk not in due or mention:
            due[message.pk] = (message, mention)
    return [due[key] for key in sorted(due)]


def send_digests(now=None) -> int:
    """Email each user who is due a digest; returns the number of emails sent."""
    now = now or clock.utcnow()
    online = _note_who_is_online(now)
    wait = timedelta(minutes=settings.JABBER_EMAIL_DIGEST_MINUTES)
    sent = 0
    User = get_user_model()
    for user_id, pairs in _candidates(online, now - LOOK_BACK).items():
        with transaction.atomic():
            NotificationSettings.objects.get_or_create(user_id=user_id)
            settings_ = NotificationSettings.objects.select_for_update().get(pk=user_id)
            if not settings_.email:
                continue
            if settings_.last_email_at and now - settings_.last_email_at < wait:
                continue
            due = _still_due(user_id, pairs, settings_, now)
            user = User.objects.filter(pk=user_id, is_active=True).exclude(email="").first()
            if not due or user is None:
                continue
            _send(user, due)
            NotificationSettings.objects.filter(pk=user_id).update(
                last_email_at=now, emailed_through=max(message.pk for message, _ in due)
            )
            sent += 1
    return sent


def _send(user, due: list[tuple[Message, bool]]) -> None:
    site = settings.JABBER_SITE_URL
    missed = [
        Missed(
            id=message.pk,
            room=message.room.name,
            author=message.user.username,
            text=message.text or message.body,
            mention=mention,
            url=f"{site}{reverse('chat:room', args=[message.room.name])}?around={message.pk}",
        )
        for message, mention in due
    ]
    unsubscribe_url = site + reverse("unsubscribe", args=[unsubscribe_token(user.pk)])
    context = {
        "user": user,
        "missed": missed,
        "unsubscribe_url": unsubscribe_url,
        "preferences_url": site + reverse("preferences"),
    }
    count = len(missed)
    subject = f"Jabber: {count} message{'s' if count != 1 else ''} for you"
    email = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("chat/email/digest.txt", context),
        to=[user.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    email.attach_alternative(render_to_string("chat/email/digest.html", context), "text/html")
    email.send()
