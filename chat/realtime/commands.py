"""What each client command does on an open socket: the consumer's handlers, one per command.

Each handler is called with the socket and the parsed command; it calls the
services and answers with `socket.reply` (errors are `ChatError`, which the
consumer turns into an `error` frame).
"""

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from channels.db import database_sync_to_async
from django.conf import settings

from chat import protocol, selectors, services
from jabber import clock, events
from jabber.events import CloseCode
from presence import services as presence

if TYPE_CHECKING:
    from chat.consumers import ChatConsumer


async def on_message(socket: "ChatConsumer", command: protocol.SendCommand) -> None:
    result = await socket.runtime.sends.submit(
        services.SendRequest(
            socket.user,
            socket.room,
            command.body,
            command.client_id,
            command.reply_to,
            command.attachments,
        )
    )
    if not result.created:
        # A resend: only the sender hears of it again.
        message = result.message
        if message.deleted:
            # client_id lets the sender clear its pending copy.
            frame = protocol.message_deleted_frame(message.id)
            await socket.reply({**frame, "client_id": message.client_id})
        else:
            # Read again: the original's attachments and reactions as they are now.
            payload = await database_sync_to_async(selectors.message_payload)(message.id)
            await socket.reply(protocol.message_frame(payload))


async def on_history(socket: "ChatConsumer", command: protocol.HistoryCommand) -> None:
    if command.around is not None:
        messages, before, after = await database_sync_to_async(services.read_history_around)(
            socket.user, socket.room, command.around, command.limit
        )
        frame = protocol.history_frame(
            messages, before, has_more_before=before, has_more_after=after
        )
        await socket.reply(frame)
        return
    messages, has_more = await database_sync_to_async(services.read_history)(
        socket.user, socket.room, before=command.before, after=command.after, limit=command.limit
    )
    await socket.reply(protocol.history_frame(messages, has_more))


async def on_typing(socket: "ChatConsumer", command: protocol.TypingCommand) -> None:
    relay = await database_sync_to_async(services.should_relay_typing)(
        socket.user_id, socket.room.id
    )
    if relay:
        frame = protocol.typing_frame(protocol.user_payload(socket.user))
        await events.publish_async(
            services.room_frame(socket.room.id, frame, except_user=socket.user_id)
        )


async def on_ping(socket: "ChatConsumer", command: protocol.PingCommand) -> None:
    ended, seq, rejoined, changed = await database_sync_to_async(heartbeat)(socket)
    if ended is not None:
        # The account or the session is gone, and its closing event was lost.
        await socket.close(ended)
        return
    # Group memberships expire, and vanish when Redis restarts empty.
    await socket.hub.refresh(force=rejoined)
    if changed:
        await socket.runtime.announcer.announce(socket.room.id)
    await socket.reply(protocol.pong_frame(seq))


async def on_edit(socket: "ChatConsumer", command: protocol.EditCommand) -> None:
    await database_sync_to_async(services.edit_message)(
        user=socket.user, room=socket.room, message_id=command.id, body=command.body
    )


async def on_delete(socket: "ChatConsumer", command: protocol.DeleteCommand) -> None:
    await database_sync_to_async(services.delete_message)(
        actor=socket.user, room=socket.room, message_id=command.id
    )


async def on_react(socket: "ChatConsumer", command: protocol.ReactCommand) -> None:
    result = await database_sync_to_async(services.react)(
        user=socket.user,
        room=socket.room,
        message_id=command.id,
        emoji=command.emoji,
        added=command.added,
    )
    if not result.changed:
        # Nothing to broadcast: the sender alone hears how things stand.
        await socket.reply(result.frame)


async def on_read(socket: "ChatConsumer", command: protocol.ReadCommand) -> None:
    # Every socket of the user, this one included, hears `read` if it moved.
    await database_sync_to_async(services.mark_read)(socket.user, socket.room, command.seq)


async def on_report(socket: "ChatConsumer", command: protocol.ReportCommand) -> None:
    await database_sync_to_async(services.report_message)(
        user=socket.user, room=socket.room, message_id=command.id, reason=command.reason
    )
    # A repeat is answered the same: the reporter learns nothing about other reports.
    await socket.reply(protocol.reported_frame(command.id))


def heartbeat(socket: "ChatConsumer") -> tuple[CloseCode | None, int, bool, bool]:
    """Re-check ban, account and session, and refresh presence when due.

    Returns the close code the socket must end with (None: it stays), the
    room's latest seq, whether this socket had been pruned and re-joined, and
    whether that changed the online list. Raises `banned`.
    """
    ended = services.check_socket(socket.user_id, socket.room.id, socket.session_key)
    if ended is not None:
        return ended, 0, False, False
    now = clock.now()
    rejoined = changed = False
    # Refresh last-seen at most once per interval: pings must not become a write storm.
    if now - socket.last_touch >= settings.JABBER_PRESENCE_TOUCH_INTERVAL:
        socket.last_touch = now
        if not presence.touch(socket.key):
            # Pruned while silent (a suspended laptop): come back online.
            change = socket.join_presence()
            rejoined, changed = True, change.changed
            if change.came_online:
                peer_events = services.peer_presence_events(online={socket.user_id})
                events.publish(*peer_events)
    return None, services.room_latest_seq(socket.room.id), rejoined, changed


HANDLERS: dict[type, Callable[["ChatConsumer", Any], Awaitable[None]]] = {
    protocol.SendCommand: on_message,
    protocol.HistoryCommand: on_history,
    protocol.TypingCommand: on_typing,
    protocol.PingCommand: on_ping,
    protocol.EditCommand: on_edit,
    protocol.DeleteCommand: on_delete,
    protocol.ReactCommand: on_react,
    protocol.ReadCommand: on_read,
    protocol.ReportCommand: on_report,
}
