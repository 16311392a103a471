"""Photos from the public and from inspectors (tip-offs, supervision): only real raster
images, re-encoded, without metadata.

A photo is decoded by Pillow (JPEG, PNG or WebP only; SVG and anything else is refused),
its pixels re-encoded as a fresh JPEG at most 1600 px wide. Nothing of the uploaded bytes
survives: EXIF (GPS), comments, trailing data of a polyglot file are all dropped.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PHOTOS = 3
MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_SIDE = 1600
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}


class PhotoRefused(ValueError):
    """A photo that is not accepted; the message is the Chinese sentence for the user."""


@dataclass(frozen=True)
class CleanPhoto:
    data: bytes
    width: int
    height: int


def clean_photo(raw: bytes) -> CleanPhoto:
    """The photo re-encoded as JPEG without metadata, or :class:`PhotoRefused`."""
    if len(raw) > MAX_BYTES:
        raise PhotoRefused(_("A photo may be at most 8 MB."))
    if not raw:
        raise PhotoRefused(_("The photo is empty."))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as probe:
                if probe.format not in ALLOWED_FORMATS:
                    raise PhotoRefused(_("Only JPEG, PNG or WebP photos are accepted."))
                if probe.width * probe.height > MAX_PIXELS:
                    raise PhotoRefused(_("The photo has too many pixels."))
                probe.verify()
            with Image.open(io.BytesIO(raw)) as image:
                image.load()
                image = ImageOps.exif_transpose(image)
                image = image.convert("RGB")
                image.thumbnail((MAX_SIDE, MAX_SIDE))
                out = io.BytesIO()
                # A fresh encode: no exif=, no icc_profile=, no comment: metadata is not copied.
                image.save(out, format="JPEG", quality=80, optimize=True)
                return CleanPhoto(out.getvalue(), image.width, image.height)
    except PhotoRefused:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoRefused(_("The file is not a photo we can read (JPEG, PNG or WebP).")) from None
    except (OSError, SyntaxError, ValueError):
        raise PhotoRefused(_("The photo is damaged and cannot be read.")) from None
