"""Snippets as safe HTML: everything escaped, the engines' match markers turned into <mark>."""

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from search.engines import MARK_END, MARK_START


def marked(raw: str) -> SafeString:
    """Escape a snippet and mark the matched words; tags always pair, whatever the input."""
    parts: list[str] = []
    inside = False
    for index, segment in enumerate(raw.replace(MARK_END, MARK_START).split(MARK_START)):
        if index:
            parts.append("</mark>" if inside else "<mark>")
            inside = not inside
        parts.append(escape(segment))
    if inside:
        parts.append("</mark>")
    return mark_safe("".join(parts))  # every text segment is escaped above
