"""Reports: a member flags a message, its moderators hear of it live and settle it."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet

from chat import protocol, selectors
from chat.models import Membership, Message, Report, Room
from chat.moderators import MODERATORS_GROUP
from chat.services.editing import delete_messages
from chat.services.errors import ChatError
from chat.services.moderation import ban_user, log_action, mute_user
from jabber import clock, events


def report_message(*, user, room: Room, message_id: int, reason: str) -> Report:
    """Record a report of a visible message in the room; a repeat by the same user changes nothing.

    The room's moderators and the Moderators group hear of a new report live (`report`).
    """
    reason = reason.strip()
    if not 1 <= len(reason) <= protocol.REPORT_REASON_MAX:
        raise ChatError(
            "bad_request", f"reason must be 1-{protocol.REPORT_REASON_MAX} characters of text."
        )
    message = Message.objects.filter(pk=message_id, room=room, deleted__isnull=True).first()
    if message is None:
        raise ChatError("not_found", "No such message in this room.")
    with transaction.atomic():
        report, created = Report.objects.get_or_create(
            message=message, reporter=user, defaults={"reason": reason}
        )
        if created:
            frame = protocol.report_frame(
                report_id=report.pk,
                room=room.name,
                message=selectors.message_payload(message.pk),
                reporter=protocol.user_payload(user),
                reason=reason,
            )
            text = protocol.encode(frame)
            sent = [events.UserFrame(user=user_id, text=text) for user_id in moderator_ids(room)]
            transaction.on_commit(lambda: events.publish(*sent))
    return report


def moderator_ids(room: Room) -> list[int]:
    """Who moderates the room: its owner and room moderators, and the Moderators group."""
    User = get_user_model()
    roles = (Membership.Role.OWNER, Membership.Role.MODERATOR)
    in_room = Q(membership__room=room, membership__role__in=roles)
    site = Q(is_staff=True) & (Q(groups__name=MODERATORS_GROUP) | Q(is_superuser=True))
    found = User.objects.filter(is_active=True).filter(in_room | site)
    return sorted(set(found.values_list("pk", flat=True)))


def resolve_reports(
    *, actor, reports: QuerySet[Report], outcome: str, minutes: int | None = None
) -> int:
    """Settle open reports by deleting the message, muting or banning its author in that room,
    or dismissing them; each reporter hears the outcome (`report_resolved`)."""
    expires = clock.utcnow() + timedelta(minutes=minutes) if minutes else None
    count = 0
    with transaction.atomic():
        open_reports = list(
            reports.select_for_update()
            .filter(resolved__isnull=True)
            .select_related("message__room", "message__user")
        )
        acted_on: set[tuple[str, int]] = set()
        for report in open_reports:
            message = report.message
            target = message.pk if outcome == Report.Outcome.DELETED else message.user_id
            # Several reports of one message (or author) call for one action, not one each.
            if (outcome, target) not in acted_on:
                acted_on.add((outcome, target))
                _act(actor, message, outcome, expires)
            report.outcome, report.resolved, report.resolved_by = outcome, clock.utcnow(), actor
            report.save(update_fields=["outcome", "resolved", "resolved_by"])
            log_action(actor, report, f"Resolved: {report.get_outcome_display()}.")
            frame = protocol.report_resolved_frame(message.pk, outcome)
            event = events.UserFrame(user=report.reporter_id, text=protocol.encode(frame))
            transaction.on_commit(lambda event=event: events.publish(event))
            count += 1
    return count


def _act(actor, message: Message, outcome: str, expires) -> None:
    if outcome == Report.Outcome.DELETED:
        delete_messages(actor=actor, messages=Message.objects.filter(pk=message.pk))
    elif outcome == Report.Outcome.MUTED:
        mute_user(actor=actor, user=message.user, room=message.room, expires=expires)
    elif outcome == Report.Outcome.BANNED:
        ban_user(actor=actor, user=message.user, room=message.room, expires=expires)
    elif outcome != Report.Outcome.DISMISSED:
        raise ChatError("bad_request", f"Unknown outcome {outcome!r}.")
