"""Blocking people, from the blocked-people section of the preferences page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from accounts import services
from accounts.models import Block

BLOCK_ACTIONS = ("block", "unblock")


@login_required
def update_blocks(request: HttpRequest) -> HttpResponse:
    """POST `action` block (`username`) or unblock (`user_id`), then back to the preferences."""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "block":
            try:
                blocked = services.block(request.user, request.POST.get("username", "").strip())
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, f"You blocked {blocked.blocked.username}.")
        elif action == "unblock" and request.POST.get("user_id", "").isdigit():
            services.unblock(request.user, int(request.POST["user_id"]))
            messages.success(request, "Unblocked.")
        else:
            messages.error(request, "Nothing to do.")
    return redirect("preferences")


def blocks_of(user) -> QuerySet[Block]:
    """Whom the user blocks, for the preferences page."""
    return Block.objects.filter(blocker=user).select_related("blocked")
