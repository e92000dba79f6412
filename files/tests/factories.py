"""Files for the upload tests: images made with Pillow, hostile ones, and stored uploads."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from files import services

# EXIF tags: Orientation, and the pointer to the GPS block.
ORIENTATION = 0x0112
GPS_INFO = 0x8825


def image_bytes(
    size: tuple[int, int] = (40, 20), format: str = "PNG", color="red", **options
) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", size, color).save(output, format=format, **options)
    return output.getvalue()


def photo_with_gps(size: tuple[int, int] = (40, 20), orientation: int = 6) -> bytes:
    """A JPEG as phones write them: rotated by an EXIF orientation, with a GPS position."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[GPS_INFO] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
    return image_bytes(size, "JPEG", exif=exif.tobytes(), comment=b"taken at home")


def polyglot_gif() -> bytes:
    """A valid GIF that is also an HTML page with a script (the bytes after the trailer)."""
    return image_bytes((8, 8), "GIF") + b"<html><script>alert(document.cookie)</script></html>"


def png_bomb() -> bytes:
    """A small PNG that decodes to 400 million pixels."""
    output = io.BytesIO()
    Image.new("1", (20000, 20000)).save(output, format="PNG")
    return output.getvalue()


def uploaded(data: bytes, name: str = "file.bin", content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def store(user, room, data: bytes = b"hello", name: str = "notes.txt", content_type="text/plain"):
    """An upload stored as the upload view stores it (limits and image checks included)."""
    return services.store_upload(user=user, room=room, upload=uploaded(data, name, content_type))
