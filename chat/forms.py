"""Forms of the chat pages: joining or creating a room from the lobby."""

from django import forms
from django.core.exceptions import ValidationError

from chat import access
from chat.models import validate_room_name


def clean_name(value: str) -> str:
    name = value.strip().lower()
    validate_room_name(name)
    if access.is_reserved(name):
        raise ValidationError(
            f"Names starting with {access.DIRECT_PREFIX} are kept for direct messages."
        )
    return name


class JoinRoomForm(forms.Form):
    room = forms.CharField(
        label="Join or create a room",
        max_length=64,
        help_text="1-64 characters: a-z, 0-9, _ and -.",
    )
    private = forms.BooleanField(required=False, label="Private (members only; you own it)")

    def clean_room(self) -> str:
        return clean_name(self.cleaned_data["room"])


class CreateRoomForm(forms.Form):
    """POST /chat/new/: `name`, and `private` to make it members-only."""

    name = forms.CharField(max_length=64)
    private = forms.BooleanField(required=False)

    def clean_name(self) -> str:
        return clean_name(self.cleaned_data["name"])
