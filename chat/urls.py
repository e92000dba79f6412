"""Chat page URLs: the lobby and rooms (names checked by the <room:> converter)."""

from django.urls import path

from chat import converters, views  # noqa: F401 (converters registers <room:>)

app_name = "chat"
urlpatterns = [
    path("", views.lobby, name="lobby"),
    path("<room:name>/", views.room, name="room"),
    path("<room:name>/leave/", views.leave, name="leave"),
    path("<mixed_case_room:name>/", views.room_in_lower_case),
]
