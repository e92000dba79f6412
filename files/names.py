"""The name an upload is shown under: cleaned of anything that could lie or act as a path."""

import unicodedata
from urllib.parse import quote

MAX_NAME = 200
# An extension kept whole when a long name is cut: up to this many characters.
MAX_EXTENSION = 16
# Control, format (bidi overrides and isolates, zero-width), surrogate,
# private-use and unassigned characters never belong in a shown name.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def display_name(raw: str) -> str:
    """The shown name of an uploaded file; never a path, never empty, at most MAX_NAME long."""
    name = unicodedata.normalize("NFC", raw)
    # Some browsers send a whole path: keep its last part.
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        " " if char.isspace() else char
        for char in name
        if char.isspace() or unicodedata.category(char) not in _DROPPED_CATEGORIES
    )
    # Leading dots hide files, trailing dots and spaces confuse Windows.
    name = " ".join(name.split()).strip(" .")
    if len(name) > MAX_NAME:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and len(extension) <= MAX_EXTENSION:
            name = f"{stem[: MAX_NAME - len(extension) - 1].rstrip(' .')}.{extension}"
        else:
            name = name[:MAX_NAME].rstrip(" .")
    return name or "file"


def content_disposition(name: str) -> str:
    """`Content-Disposition: attachment` for `name` (RFC 6266: an ASCII fallback, then UTF-8)."""
    fallback = "".join(
        char if char.isascii() and char.isprintable() and char not in '"\\%;' else "_"
        for char in name
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
