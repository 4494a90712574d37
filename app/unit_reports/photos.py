"""Photos of 工作台账 entries (pure): an uploaded picture is checked and stored as a JPEG
turned upright, at most `MAX_SIDE` pixels on its longer side, without its EXIF data (a
phone's photo carries where it was taken). What is stored is small enough for a weak
network and for the report's .docx."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PHOTOS = 4  # per activity
MAX_SIDE = 1600
MAX_PIXELS = 50_000_000  # a larger picture is refused before it is decoded
QUALITY = 82
FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP")


class PhotoRefused(ValueError):
    """The file is not a picture peixun can keep; the message says why, in Chinese (the
    page puts the file's name before it)."""


@dataclass(frozen=True)
class PreparedPhoto:
    content: bytes  # JPEG
    width: int
    height: int


def prepare_photo(content: bytes) -> PreparedPhoto:
    """The picture as stored; raises PhotoRefused."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(io.BytesIO(content), formats=FORMATS)
            if image.width * image.height > MAX_PIXELS:
                raise PhotoRefused("照片像素太多（超过 5000 万像素），请缩小后再上传。")
            image.load()
    except PhotoRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRefused("照片像素太多（超过 5000 万像素），请缩小后再上传。") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise PhotoRefused(
            "无法识别为照片：请上传 JPG 或 PNG 格式的照片（手机拍摄的照片即可）。"
        ) from None
    image = ImageOps.exif_transpose(image) or image
    if image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, "white")
        rgba = image.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=QUALITY, optimize=True, progressive=True)
    return PreparedPhoto(out.getvalue(), image.width, image.height)
