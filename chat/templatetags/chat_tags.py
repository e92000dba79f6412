"""Filters for rendering MESSAGE objects (the socket's dicts) in templates."""

from datetime import datetime

from django import template

register = template.Library()


@register.filter
def iso_datetime(value: str | None) -> datetime | None:
    """The datetime of a MESSAGE timestamp ("2026-11-23T10:00:00.123Z"), for the date filter."""
    if not value:
        return None
    return datetime.fromisoformat(value)
