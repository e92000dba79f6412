"""Filters for showing ATTACHMENT objects in templates."""

from django import template

from files.images import THUMBNAIL_SIZE

register = template.Library()


def thumbnail_box(width: int, height: int) -> tuple[int, int]:
    """The size a thumbnail is shown at: the image scaled to fit THUMBNAIL_SIZE, never enlarged
    (static/chat/attachments.js thumbnailBox computes the same)."""
    scale = min(1.0, THUMBNAIL_SIZE / max(width, height, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


@register.filter
def thumbnail_width(attachment: dict) -> int:
    return thumbnail_box(attachment["width"], attachment["height"])[0]


@register.filter
def thumbnail_height(attachment: dict) -> int:
    return thumbnail_box(attachment["width"], attachment["height"])[1]
