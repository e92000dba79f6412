"""Forms of the chat pages: joining or creating a room from the lobby."""

from django import forms

from chat.models import validate_room_name


class JoinRoomForm(forms.Form):
    room = forms.CharField(
        label="Join or create a room",
        max_length=64,
        help_text="1-64 characters: a-z, 0-9, _ and -.",
    )

    def clean_room(self) -> str:
        name = self.cleaned_data["room"].strip().lower()
        validate_room_name(name)
        return name
