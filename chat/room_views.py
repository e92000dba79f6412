"""Pages and form posts of private rooms, direct messages, invitations and room moderation (§12).

Each POST (CSRF) redirects back to the room, or answers JSON when the request
asks for it (`Accept: application/json`). A room the requester may not see is
404, exactly as for a room that does not exist (chat.access); a refusal is 403.
"""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from chat import access, services
from chat.forms import CreateRoomForm
from chat.models import Room
from chat.services import ChatError
from chat.views import invite_url, lobby_page
from chat.views import room as room_page

STATUS = {"forbidden": 403, "not_found": 404, "rate_limited": 429}


def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _refused(request: HttpRequest, error: ChatError, room: Room | None = None) -> HttpResponse:
    """A refusal: JSON with its code, or the room again with the reason (403/404/429: a page)."""
    status = STATUS.get(error.code, 400)
    if wants_json(request):
        return JsonResponse({"error": {"code": error.code, "detail": error.detail}}, status=status)
    if status == 404:
        raise Http404(error.detail)
    if room is not None and status == 400:
        messages.error(request, error.detail)
        return redirect("chat:room", name=room.name)
    return render(request, "chat/refused.html", {"detail": error.detail}, status=status)


def _done(request: HttpRequest, room: Room, detail: str, **data) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"ok": True, "detail": detail, **data})
    messages.success(request, detail)
    return redirect("chat:room", name=room.name)


def _room_post(action: Callable[[HttpRequest, Room], tuple[str, dict]]):
    """A POST on a visible room that calls one service and answers as the module says."""

    @login_required
    @require_POST
    def view(request: HttpRequest, name: str) -> HttpResponse:
        room = access.find_room(request.user, name)
        if room is None:
            return _refused(request, ChatError("not_found", "No such room."))
        try:
            detail, data = action(request, room)
        except ChatError as error:
            return _refused(request, error, room)
        return _done(request, room, detail, **data)

    view.__name__ = action.__name__
    view.__doc__ = action.__doc__
    return view


def _username(request: HttpRequest) -> str:
    return request.POST.get("username", "").strip()


@_room_post
def add_member(request: HttpRequest, room: Room) -> tuple[str, dict]:
    membership = services.add_member(actor=request.user, room=room, username=_username(request))
    return f"Added {membership.user.username}.", {}


@_room_post
def remove_member(request: HttpRequest, room: Room) -> tuple[str, dict]:
    username = _username(request)
    services.remove_member(actor=request.user, room=room, username=username)
    return f"Removed {username}.", {}


@_room_post
def add_moderator(request: HttpRequest, room: Room) -> tuple[str, dict]:
    username = _username(request)
    services.set_room_moderator(actor=request.user, room=room, username=username, moderator=True)
    return f"{username} is now a room moderator.", {}


@_room_post
def remove_moderator(request: HttpRequest, room: Room) -> tuple[str, dict]:
    username = _username(request)
    services.set_room_moderator(actor=request.user, room=room, username=username, moderator=False)
    return f"{username} is no longer a room moderator.", {}


@_room_post
def transfer_ownership(request: HttpRequest, room: Room) -> tuple[str, dict]:
    username = _username(request)
    services.transfer_ownership(actor=request.user, room=room, username=username)
    return f"{username} now owns this room; you are a room moderator.", {}


@login_required
@require_POST
def leave(request: HttpRequest, name: str) -> HttpResponse:
    """Leave a room (§9), then go to the lobby; refused: back to the room with the reason."""
    room = access.find_room(request.user, name)
    if room is None:
        return _refused(request, ChatError("not_found", "No such room."))
    try:
        services.leave_room(request.user, room)
    except ChatError as error:
        return _refused(request, error, room)
    detail = f"You left #{room.name}."
    if wants_json(request):
        return JsonResponse({"ok": True, "detail": detail})
    messages.success(request, detail)
    return redirect("chat:lobby")


@_room_post
def moderate(request: HttpRequest, room: Room) -> tuple[str, dict]:
    fields = {
        field: request.POST.get(field, "")
        for field in ("action", "username", "minutes", "seconds", "value")
    }
    return services.moderate_room(actor=request.user, room=room, **fields), {}


@_room_post
def create_invite(request: HttpRequest, room: Room) -> tuple[str, dict]:
    url = invite_url(request, services.invite_token(actor=request.user, room=room))
    return f"Invite link (valid 7 days): {url}", {"url": url}


@_room_post
def revoke_invites(request: HttpRequest, room: Room) -> tuple[str, dict]:
    services.revoke_invites(actor=request.user, room=room)
    return "Every invite link made so far no longer works.", {}


@login_required
def join(request: HttpRequest, token: str) -> HttpResponse:
    """Follow an invite link: become a member (again: nothing changes) and open the room."""
    try:
        room = services.join_by_invite(user=request.user, token=token)
    except ChatError as error:
        return _refused(request, error)
    return redirect("chat:room", name=room.name)


@login_required
def direct(request: HttpRequest, username: str) -> HttpResponse:
    """Open the direct conversation with a user (created on first visit)."""
    try:
        room = services.open_direct(request.user, username)
    except ChatError as error:
        return _refused(request, error)
    return redirect("chat:room", name=room.name)


@login_required
def new_room(request: HttpRequest) -> HttpResponse:
    """POST: create a room (private: the creator owns it). GET: the room called "new"."""
    if request.method != "POST":
        return room_page(request, "new")
    form = CreateRoomForm(request.POST)
    if form.is_valid():
        try:
            room = services.new_room(
                request.user, form.cleaned_data["name"], private=form.cleaned_data["private"]
            )
        except ChatError as error:
            if wants_json(request):
                return _refused(request, error)
            form.add_error("name", error.detail)
        else:
            if wants_json(request):
                return JsonResponse({"ok": True, "room": room.name, "kind": room.kind})
            return redirect("chat:room", name=room.name)
    elif wants_json(request):
        detail = " ".join(error for errors in form.errors.values() for error in errors)
        return JsonResponse({"error": {"code": "bad_request", "detail": detail}}, status=400)
    return lobby_page(request, form, status=400)
