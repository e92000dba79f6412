"""Pages: the lobby and a room, rendered on the server and readable without JavaScript."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from accounts import views as account_views
from chat import access, selectors, services
from chat.forms import JoinRoomForm
from chat.models import Membership, Room
from chat.services import ChatError, notifications
from chat.services.room_moderation import ACTIONS
from jabber import events
from presence import services as presence


@login_required
def lobby(request: HttpRequest) -> HttpResponse:
    form = JoinRoomForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        name = form.cleaned_data["room"]
        if not form.cleaned_data["private"]:
            return redirect("chat:room", name=name)
        try:
            room = services.new_room(request.user, name, private=True)
        except ChatError as error:
            form.add_error("room", error.detail)
        else:
            return redirect("chat:room", name=room.name)
    return lobby_page(request, form)


def lobby_page(request: HttpRequest, form, status: int = 200) -> HttpResponse:
    """The lobby: the rooms this user can see (no direct messages), with the form as given."""
    rooms = access.listed_rooms(request.user).exclude(kind=Room.Kind.DIRECT)
    context = {"rooms": selectors.lobby_rooms(rooms), "form": form}
    return render(request, "chat/lobby.html", context, status=status)


@login_required
def room_in_lower_case(request: HttpRequest, name: str) -> HttpResponse:
    return redirect("chat:room", name=name.lower())


@login_required
def room(request: HttpRequest, name: str) -> HttpResponse:
    room = selectors.room_named(name)
    if room is not None and not access.is_visible(request.user, room):
        # A private room or direct message is nothing to a non-member (chat.access).
        raise Http404("No such room.")
    if room is None and access.is_reserved(name):
        raise Http404("No such room.")
    if room is None:
        ban = selectors.bans_from_every_room({request.user.id}).get(request.user.id)
    else:
        ban = selectors.active_ban(request.user.id, room)
    if ban is not None:
        # Refused: a room that does not exist is not created for it (SPEC §15).
        context = {"room": room or Room(name=name), "banned": ban}
        return render(request, "chat/room.html", context, status=403)
    if room is None:
        try:
            room = services.create_room(request.user, name)
        except ChatError as error:
            context = {"name": name, "retry_after": int(error.retry_after or 0) + 1}
            return render(request, "chat/too_many_rooms.html", context, status=429)
    if room.kind == Room.Kind.PUBLIC:
        services.join_rooms({(request.user.id, room.id)})
    if room.kind == Room.Kind.DIRECT and not room.title:
        # Shown under the other person's name (kept off the row: it differs for each of the two).
        room.title = _direct_peer_name(request.user, room)
    around = _message_id(request.GET.get("around"))
    if around is None:
        messages, has_more = selectors.latest_messages(room)
        has_more_after = False
    else:
        messages, has_more, has_more_after = selectors.history_around(
            room, around, settings.JABBER_HISTORY_PAGE
        )
    last = messages[-1] if messages else None
    is_room_moderator = services.is_room_moderator(request.user, room)
    config = {
        "room": room.name,
        "user": {"id": request.user.id, "username": request.user.username},
        "kind": room.kind,
        "isModerator": is_room_moderator,
        # The Moderators group moderates everywhere: a `role` frame of "member" keeps its controls.
        "isSiteModerator": services.is_moderator(request.user),
        "maxBody": settings.JABBER_MAX_BODY,
        "maxUpload": settings.JABBER_MAX_UPLOAD,
        "typingInterval": int(settings.JABBER_TYPING_INTERVAL * 1000),
        # 25 s of the 60 s after which a silent socket is closed (4408): a late
        # ping in a throttled background tab still arrives in time.
        "pingInterval": int(settings.JABBER_PRESENCE_TIMEOUT * 1000 * 25 / 60),
        "wsPath": f"/ws/chat/{room.name}/",
        "lastId": last["id"] if last else 0,
        "lastSeq": last["seq"] if last else 0,
        "hasMore": has_more,
        "around": around,
        "hasMoreAfter": has_more_after,
        "slowMode": room.slow_mode_seconds,
        "locked": room.locked,
    }
    context = {
        "room": room,
        "chat_messages": messages,
        "has_more": has_more,
        "around": around,
        "online": presence.online(room.id),
        "banned": None,
        "config": config,
        "close_codes": events.close_code_table(),
        "room_admin": _room_admin(request, room) if is_room_moderator else None,
    }
    return render(request, "chat/room.html", context)


def _room_admin(request: HttpRequest, room: Room) -> dict:
    """What the moderation panel of a room page shows its owner and room moderators."""
    members = room.memberships.select_related("user").order_by("role", "user__username")
    may_invite = room.kind != Room.Kind.DIRECT
    return {
        "members": members,
        "is_owner": services.is_moderator(request.user)
        or access.role(request.user, room) == Membership.Role.OWNER,
        "invite_url": invite_url(request, services.invite_token(actor=request.user, room=room))
        if may_invite
        else None,
        "actions": ACTIONS,
    }


def _direct_peer_name(user, room: Room) -> str:
    """The username of the other person in a direct room."""
    low, high = services.direct_peer_ids({room.pk: room.name}).get(room.pk, (user.pk, user.pk))
    other = high if low == user.pk else low
    names = get_user_model().objects.filter(pk=other).values_list("username", flat=True)
    return names.first() or room.name


def invite_url(request: HttpRequest, token: str) -> str:
    """The absolute address of an invite link, for copying."""
    return request.build_absolute_uri(reverse("chat:join", args=[token]))


def _message_id(value: str | None) -> int | None:
    """A message id from a query parameter, or None for anything that is not one."""
    if value is None or not value.isascii() or not value.isdigit() or len(value) > 18:
        return None
    return int(value)


@require_GET
def rooms_api(request: HttpRequest) -> JsonResponse:
    """The user's rooms with their counts, as `hello.rooms`; 403 JSON (not a login page) if
    anonymous."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "forbidden", "detail": "Log in first."}, status=403)
    return JsonResponse({"rooms": selectors.rooms_for(request.user)})


@require_GET
def members_json(request: HttpRequest, name: str) -> JsonResponse:
    """The room's members for `@` completion; 403 JSON if anonymous, 404 alike for a room
    that does not exist and one the user may not read."""
    if not request.user.is_authenticated:
        return JsonResponse({"error": "forbidden", "detail": "Log in first."}, status=403)
    room = selectors.room_named(name)
    if room is None or not access.may_read(request.user, room):
        return JsonResponse({"error": "not_found", "detail": "No such room."}, status=404)
    return JsonResponse({"members": selectors.member_names(room)})


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    """Email on or off, each room's notification level, and whom you block."""
    user = request.user
    if request.method == "POST" and "action" in request.POST:
        return account_views.update_blocks(request)
    if request.method == "POST":
        notifications.set_email_enabled(user.pk, request.POST.get("email") == "on")
        for entry in selectors.rooms_for(user):
            level = request.POST.get(f"level-{entry['name']}")
            if level is not None:
                notifications.set_level(user, entry["name"], level)
        return redirect("preferences")
    context = {
        "email_enabled": notifications.email_enabled(user.pk),
        "my_room_levels": selectors.rooms_for(user),
        "levels": Membership.Level.choices,
        "blocks": account_views.blocks_of(user),
    }
    return render(request, "chat/preferences.html", context)


# A mail client's one-click unsubscribe (RFC 8058) posts without a CSRF token; the
# signed token is the proof, and all it can do is turn email off.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """Turn email off from a signed link; a forged or expired link changes nothing."""
    done = notifications.unsubscribe(token)
    return render(request, "chat/unsubscribed.html", {"done": done}, status=200 if done else 400)
