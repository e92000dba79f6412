"""Moderation from the Django admin: thin classes over chat.services."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from chat import services
from chat.models import Ban, Message, Mute, Report, Room


class VisibilityFilter(admin.SimpleListFilter):
    title = "visibility"
    parameter_name = "visibility"

    def lookups(self, request, model_admin):
        return [("visible", "Visible"), ("deleted", "Deleted")]

    def queryset(self, request, queryset):
        if self.value() == "visible":
            return queryset.filter(deleted__isnull=True)
        if self.value() == "deleted":
            return queryset.filter(deleted__isnull=False)
        return queryset


class RoomNameFilter(admin.SimpleListFilter):
    """Filter by a room name typed in a box: a list of every room does not scale."""

    title = "room"
    parameter_name = "room_name"
    template = "admin/chat/room_name_filter.html"

    def lookups(self, request, model_admin):
        return ()

    def has_output(self) -> bool:
        return True

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(room__name=self.value())
        return queryset

    def choices(self, changelist):
        # The other filters in force ride along as hidden fields of the box's form.
        others = [
            (name, value)
            for name, values in changelist.get_filters_params().items()
            if name != self.parameter_name
            for value in (values if isinstance(values, list) else [values])
        ]
        yield {"value": self.value() or "", "name": self.parameter_name, "others": others}


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "room", "user", "short_body", "created", "edited", "deleted"]
    list_filter = [
        VisibilityFilter,
        RoomNameFilter,
        ("user", admin.RelatedOnlyFieldListFilter),
        "created",
    ]
    search_fields = ["body", "user__username", "room__name"]
    date_hierarchy = "created"
    list_select_related = ["room", "user"]
    raw_id_fields = ["room", "user"]
    readonly_fields = [
        "room",
        "user",
        "seq",
        "body",
        "created",
        "edited",
        "deleted",
        "deleted_by",
        "client_id",
    ]
    actions = ["hide_messages"]

    @admin.display(description="body")
    def short_body(self, message: Message) -> str:
        return message.body if len(message.body) <= 80 else message.body[:79] + "…"

    @admin.action(
        description="Delete selected messages (hide from everyone)", permissions=["change"]
    )
    def hide_messages(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        count = services.delete_messages(actor=request.user, messages=queryset)
        self.message_user(request, f"Deleted {count} message(s).", messages.SUCCESS)

    def get_actions(self, request):
        actions = super().get_actions(request)
        # Messages are hidden, never erased: the record of what was said stays.
        actions.pop("delete_selected", None)
        return actions

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "title", "locked", "slow_mode_seconds", "last_activity"]
    list_filter = ["kind", "locked"]
    search_fields = ["name", "title", "topic"]
    fields = ["name", "title", "topic", "locked", "slow_mode_seconds"]
    actions = ["lock_rooms", "unlock_rooms"]

    def get_readonly_fields(self, request, obj=None):
        return ["name"] if obj else []

    def save_model(self, request: HttpRequest, obj: Room, form, change: bool) -> None:
        services.save_room(obj, form.changed_data if change else [])

    @admin.action(description="Lock selected rooms (read-only)", permissions=["change"])
    def lock_rooms(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        self._set_locked(request, queryset, True)

    @admin.action(description="Unlock selected rooms", permissions=["change"])
    def unlock_rooms(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        self._set_locked(request, queryset, False)

    def _set_locked(self, request: HttpRequest, queryset: QuerySet[Room], locked: bool) -> None:
        for room in queryset:
            services.set_room_locked(room, locked)
            self.log_change(request, room, "Locked." if locked else "Unlocked.")
        self.message_user(
            request, f"{'Locked' if locked else 'Unlocked'} {queryset.count()} room(s)."
        )


class RestrictionAdmin(admin.ModelAdmin):
    list_display = ["user", "room", "reason", "created", "expires", "created_by"]
    list_filter = [RoomNameFilter, "created", "expires"]
    search_fields = ["user__username", "room__name", "reason"]
    # Searched as typed: a select of every room or user does not scale.
    autocomplete_fields = ["user", "room"]
    list_select_related = ["user", "room", "created_by"]
    fields = ["user", "room", "expires", "reason"]

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        services.impose(obj, actor=request.user)


@admin.register(Ban)
class BanAdmin(RestrictionAdmin):
    pass


@admin.register(Mute)
class MuteAdmin(RestrictionAdmin):
    pass


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """Reports of messages, settled by actions through chat.services (the reporter hears)."""

    list_display = ["id", "room", "message_body", "reporter", "reason", "created", "outcome"]
    list_filter = [("resolved", admin.EmptyFieldListFilter), "outcome", "created"]
    search_fields = ["reason", "reporter__username", "message__body", "message__room__name"]
    list_select_related = ["message__room", "message__user", "reporter"]
    readonly_fields = [
        "message",
        "reporter",
        "reason",
        "created",
        "outcome",
        "resolved",
        "resolved_by",
    ]
    actions = ["delete_messages", "mute_authors", "ban_authors", "dismiss"]

    @admin.display(description="room")
    def room(self, report: Report) -> str:
        return report.message.room.name

    @admin.display(description="message")
    def message_body(self, report: Report) -> str:
        body = report.message.body
        return body if len(body) <= 80 else body[:79] + "…"

    def _resolve(self, request: HttpRequest, queryset: QuerySet[Report], outcome: str) -> None:
        count = services.resolve_reports(actor=request.user, reports=queryset, outcome=outcome)
        self.message_user(request, f"Settled {count} open report(s).", messages.SUCCESS)

    @admin.action(description="Delete the reported messages", permissions=["change"])
    def delete_messages(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        self._resolve(request, queryset, Report.Outcome.DELETED)

    @admin.action(description="Mute the authors in those rooms", permissions=["change"])
    def mute_authors(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        self._resolve(request, queryset, Report.Outcome.MUTED)

    @admin.action(description="Ban the authors from those rooms", permissions=["change"])
    def ban_authors(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        self._resolve(request, queryset, Report.Outcome.BANNED)

    @admin.action(description="Dismiss (nothing to do)", permissions=["change"])
    def dismiss(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        self._resolve(request, queryset, Report.Outcome.DISMISSED)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
