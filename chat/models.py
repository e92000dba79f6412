"""Rooms, messages and the moderation records that govern them."""

import re
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from jabber import clock

# The one definition of a room name; URLs match it through chat.converters.
ROOM_NAME_PATTERN = r"[a-z0-9_-]{1,64}"
ROOM_NAME_RE = re.compile(ROOM_NAME_PATTERN)
# Paths under /chat/ that are pages of their own, so no room may take the name.
RESERVED_ROOM_NAMES = frozenset({"search"})


def validate_room_name(value: str) -> None:
    if not ROOM_NAME_RE.fullmatch(value):
        raise ValidationError("Room names are 1-64 characters of a-z, 0-9, _ and -.")
    if value in RESERVED_ROOM_NAMES:
        raise ValidationError(f"“{value}” is reserved; pick another name.")


class Room(models.Model):
    class Kind(models.TextChoices):
        PUBLIC = "public", "Public: anyone can find and join it"
        PRIVATE = "private", "Private: members only"
        DIRECT = "direct", "Direct messages between two people"

    name = models.CharField(max_length=64, unique=True, validators=[validate_room_name])
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.PUBLIC)
    title = models.CharField(max_length=120, blank=True)
    topic = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(default=clock.utcnow)
    last_activity = models.DateTimeField(default=clock.utcnow, db_index=True)
    # The highest seq handed out; bumped in the same transaction as the insert.
    last_seq = models.PositiveBigIntegerField(default=0)
    locked = models.BooleanField(default=False, help_text="Read-only: nobody can send.")
    slow_mode_seconds = models.PositiveIntegerField(
        default=0, help_text="Seconds between one user's messages (0 = off)."
    )
    # Signed into invite links; revoking them bumps it, so every older link stops working.
    invite_version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["name"]
        permissions = [("moderate_room", "Can moderate rooms (delete any message, ban, mute)")]

    def __str__(self) -> str:
        return self.name

    @property
    def display_title(self) -> str:
        return self.title or self.name


class Message(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    seq = models.PositiveBigIntegerField()
    # What the author typed (the Markdown source), and its rendering, made once
    # when the message is stored or edited (chat.formatting): `html` sanitised,
    # `text` without markup (reply excerpts), `mentions` the user ids it mentions.
    body = models.TextField()
    html = models.TextField(default="")
    text = models.TextField(default="")
    mentions = models.JSONField(default=list)
    reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(default=clock.utcnow, db_index=True)
    edited = models.DateTimeField(null=True, blank=True)
    deleted = models.DateTimeField(null=True, blank=True, db_index=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    client_id = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["room", "seq"], name="message_room_seq_unique"),
            models.UniqueConstraint(
                fields=["room", "user", "client_id"],
                condition=Q(client_id__isnull=False),
                name="message_client_id_unique",
            ),
        ]
        indexes = [
            # history: WHERE room = ? AND deleted IS NULL AND id < ? ORDER BY id
            models.Index(
                fields=["room", "id"], condition=Q(deleted__isnull=True), name="message_visible"
            ),
            # slow mode: a user's latest message in a room
            models.Index(fields=["room", "user", "created"], name="message_room_user_created"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.room}: {self.body[:40]}"


class RestrictionQuerySet(models.QuerySet):
    def active(self, now=None):
        now = now or clock.utcnow()
        return self.filter(Q(expires__isnull=True) | Q(expires__gt=now))


class Restriction(models.Model):
    """A ban or a mute: one user, one room (or every room), until an optional expiry."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.CASCADE, help_text="Empty: every room."
    )
    reason = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(default=clock.utcnow)
    expires = models.DateTimeField(null=True, blank=True, help_text="Empty: never.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = RestrictionQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-created"]

    def __str__(self) -> str:
        where = self.room.name if self.room_id else "every room"
        return f"{self.user} in {where}"

    def is_active(self, now=None) -> bool:
        return self.expires is None or self.expires > (now or clock.utcnow())


class Ban(Restriction):
    class Meta(Restriction.Meta):
        indexes = [models.Index(fields=["user", "room"], name="ban_user_room")]


class Mute(Restriction):
    class Meta(Restriction.Meta):
        indexes = [models.Index(fields=["user", "room"], name="mute_user_room")]


class Reaction(models.Model):
    """One user's emoji on one message (each emoji at most once per user)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    emoji = models.CharField(max_length=64)
    created = models.DateTimeField(default=clock.utcnow)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "user", "emoji"], name="reaction_message_user_emoji_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.emoji} on {self.message_id}"


class Membership(models.Model):
    """A user belongs to a room (opening a public one joins it); mentions reach members only."""

    class Role(models.TextChoices):
        MEMBER = "member", "Member"
        MODERATOR = "moderator", "Room moderator"
        OWNER = "owner", "Owner"

    class Level(models.TextChoices):
        ALL = "all", "All messages"
        MENTIONS = "mentions", "Mentions only"
        NOTHING = "nothing", "Nothing"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined = models.DateTimeField(default=clock.utcnow)
    # The highest seq the member has read: a high-water mark, never moved back.
    last_read_seq = models.PositiveBigIntegerField(default=0)
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.ALL)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "room"], name="membership_user_room_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.room}"


class Mention(models.Model):
    """One user mentioned by one message: written with the message, rewritten on edit.

    `room` and `seq` copy the message's, so a member's unread mentions in a room
    are one range on one index.
    """

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveBigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "user"], name="mention_message_user_unique")
        ]
        indexes = [models.Index(fields=["user", "room", "seq"], name="mention_user_room_seq")]

    def __str__(self) -> str:
        return f"{self.user_id} in message {self.message_id}"


class NotificationSettings(models.Model):
    """A user's email notifications: whether they want them, and what was sent when."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    email = models.BooleanField(
        default=True, help_text="Email unread mentions and direct messages."
    )
    last_email_at = models.DateTimeField(null=True, blank=True)
    # Messages up to this id have been considered for email: each is emailed at most once.
    emailed_through = models.PositiveBigIntegerField(default=0)
    # The last time the digest command saw the user with an open socket.
    online_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"notifications of {self.user_id}"


class Report(models.Model):
    """A member flags a message for the room's moderators (one report per message and person)."""

    class Outcome(models.TextChoices):
        OPEN = "", "Open"
        DELETED = "deleted", "Message deleted"
        MUTED = "muted", "Author muted"
        BANNED = "banned", "Author banned"
        DISMISSED = "dismissed", "Dismissed"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    reason = models.CharField(max_length=500)
    created = models.DateTimeField(default=clock.utcnow)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default="", blank=True)
    resolved = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "reporter"], name="report_message_reporter_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.reporter} on message {self.message_id}"


def attachment_path(attachment: "Attachment", filename: str) -> str:
    """Where an upload is stored: a fresh random name, never the user's filename."""
    return f"attachments/{attachment.created:%Y/%m}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """One uploaded file: the uploader's until a message of theirs in the room carries it.

    The files app stores, checks and serves it (files.services, files.views);
    chat only links it to the message that carries it.
    """

    uploader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    # Shown to people, sanitised (files.names); never used as a path.
    name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    file = models.FileField(upload_to=attachment_path, max_length=200)
    thumbnail = models.FileField(upload_to=attachment_path, max_length=200, blank=True)
    # Images only: the size of the stored (upright) picture, so pages reserve its box.
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64)
    created = models.DateTimeField(default=clock.utcnow)

    class Meta:
        ordering = ["id"]
        indexes = [
            # the daily quota: one user's uploads since a time
            models.Index(fields=["uploader", "created"], name="attachment_uploader_created"),
            # purge: uploads never attached
            models.Index(
                fields=["created"], condition=Q(message__isnull=True), name="attachment_unattached"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.size} bytes) by {self.uploader_id}"
