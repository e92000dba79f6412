"""Images: recognised by their bytes, proved by decoding, stored again without metadata.

PNG, JPEG, GIF and WebP only. The picture is turned upright (EXIF orientation)
and encoded anew, so EXIF, GPS, XMP, comments and anything appended to the
file (a polyglot's HTML) are left behind; a thumbnail is made once.
"""

import io
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from PIL import Image, ImageOps, ImageSequence

THUMBNAIL_SIZE = 400
CONTENT_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
# What a re-encoded picture keeps of its source's info: how it looks, nothing about it.
_KEPT_INFO = ("transparency", "icc_profile", "duration", "loop", "background")


class ImageRefused(Exception):
    """An image that is not one (damaged, truncated) or is too big to decode safely."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class ProcessedImage:
    data: bytes
    content_type: str
    width: int
    height: int
    thumbnail: bytes | None  # WebP, None when the picture is small enough to be its own


def sniff(head: bytes) -> str | None:
    """The image format the first bytes of a file announce (Pillow's name), or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def process(file: IO[bytes]) -> ProcessedImage | None:
    """Decode, clean and thumbnail an image; None for a file that does not claim to be one.

    Raises ImageRefused for a file that claims to be an image but does not
    decode, or whose pixels exceed JABBER_MAX_IMAGE_PIXELS.
    """
    file.seek(0)
    kind = sniff(file.read(16))
    file.seek(0)
    if kind is None:
        return None
    try:
        with Image.open(file, formats=[kind]) as image:
            return _process(image, kind)
    except Image.DecompressionBombError:
        raise ImageRefused("too_large", "The image has too many pixels.") from None
    except ImageRefused:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombWarning):
        raise ImageRefused("bad_image", "The image is damaged or incomplete.") from None


def _process(image: Image.Image, kind: str) -> ProcessedImage:
    frames = getattr(image, "n_frames", 1)
    pixels = image.width * image.height
    # Checked from the header alone, before a single pixel is decoded.
    if pixels * frames > settings.JABBER_MAX_IMAGE_PIXELS:
        raise ImageRefused("too_large", "The image has too many pixels.")
    if frames > 1:
        stills = [_clean(frame.copy()) for frame in ImageSequence.Iterator(image)]
    else:
        image.load()  # a truncated or corrupt file fails here
        stills = [_clean(ImageOps.exif_transpose(image))]
    first = stills[0]
    output = io.BytesIO()
    options: dict = {"format": kind}
    if kind == "JPEG":
        options.update(quality=90)
    elif kind == "WEBP":
        options.update(quality=90)
    if len(stills) > 1:
        options.update(
            save_all=True,
            append_images=stills[1:],
            duration=[still.info.get("duration", 100) for still in stills],
            loop=image.info.get("loop", 0),
        )
    first.save(output, **options)
    return ProcessedImage(
        data=output.getvalue(),
        content_type=CONTENT_TYPES[kind],
        width=first.width,
        height=first.height,
        thumbnail=_thumbnail(first),
    )


def _clean(image: Image.Image) -> Image.Image:
    """The picture alone: every info key but those that say how it looks is dropped."""
    image.info = {key: image.info[key] for key in _KEPT_INFO if key in image.info}
    return image


def _thumbnail(image: Image.Image) -> bytes | None:
    if max(image.width, image.height) <= THUMBNAIL_SIZE:
        return None
    thumbnail = image.copy()
    has_alpha = thumbnail.mode in ("RGBA", "LA", "PA") or "transparency" in thumbnail.info
    thumbnail = thumbnail.convert("RGBA" if has_alpha else "RGB")
    thumbnail.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    output = io.BytesIO()
    thumbnail.save(output, format="WEBP", quality=80)
    return output.getvalue()
