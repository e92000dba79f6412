"""Chat page URLs: the lobby, rooms (names checked by the <room:> converter), and the posts of
private rooms, direct messages, invitations and room moderation."""

from django.urls import path

from chat import converters, room_views, views  # noqa: F401 (converters registers <room:>)

app_name = "chat"
urlpatterns = [
    path("", views.lobby, name="lobby"),
    path("new/", room_views.new_room, name="new"),
    path("join/<str:token>/", room_views.join, name="join"),
    path("@<str:username>/", room_views.direct, name="direct"),
    path("<room:name>/", views.room, name="room"),
    path("<room:name>/leave/", room_views.leave, name="leave"),
    path("<room:name>/members.json", views.members_json, name="members_json"),
    path("<room:name>/members/add/", room_views.add_member, name="add_member"),
    path("<room:name>/members/remove/", room_views.remove_member, name="remove_member"),
    path("<room:name>/moderators/add/", room_views.add_moderator, name="add_moderator"),
    path("<room:name>/moderators/remove/", room_views.remove_moderator, name="remove_moderator"),
    path("<room:name>/owner/", room_views.transfer_ownership, name="transfer_ownership"),
    path("<room:name>/moderate/", room_views.moderate, name="moderate"),
    path("<room:name>/invites/", room_views.create_invite, name="create_invite"),
    path("<room:name>/invites/revoke/", room_views.revoke_invites, name="revoke_invites"),
    path("<mixed_case_room:name>/", views.room_in_lower_case),
]
