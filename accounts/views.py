"""The preferences page: one section per topic (blocked people for now), plain forms."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts import services
from accounts.models import Block


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    """GET: the preferences; POST `action` block (`username`) or unblock (`user_id`)."""
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
    blocks = Block.objects.filter(blocker=request.user).select_related("blocked")
    return render(request, "accounts/preferences.html", {"blocks": blocks})
