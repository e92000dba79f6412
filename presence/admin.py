"""Live connections in the admin, read-only."""

from django.contrib import admin

from presence.models import Connection


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    """Who is online where, read-only: rows come and go with live sockets."""

    list_display = ["user", "room_id", "connected", "last_seen", "socket_key"]
    list_filter = ["room_id"]
    search_fields = ["user__username"]
    ordering = ["room_id", "user__username"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
