"""Uploaded pictures: every file is hostile until Pillow has decoded it, and what is kept is a
new picture drawn from its pixels alone.

``process_picture(data)`` checks the file from its content (never its name or declared type),
refuses it before decoding when its header promises too many pixels, decodes the first frame
only, turns it upright as its EXIF orientation says, converts its colours to sRGB, crops the
centred square and encodes that afresh as WebP at every size the pages use. Nothing of the
file but its pixels survives: no EXIF (GPS, camera), ICC profile, XMP or comment, and no bytes
another program could read as something else.
"""

import hashlib
import io
import logging
import re
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

# Pillow's names for the formats accepted, and how the form names them.
ACCEPTED_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WebP", "GIF": "GIF"}
ACCEPTED_MIME_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")
# The sizes pages ask for (an avatar's CSS pixels, twice over for high-density screens), and the
# largest, which is also what the owner's data export holds. A page asking for a size between
# two gets the next one up.
PICTURE_SIZES = (64, 96, 128, 256, 512)
PICTURE_TYPE = "image/webp"
PICTURE_QUALITY = 85
DIGEST_LENGTH = 32  # hex digits of the largest size's SHA-256: the picture's name in its URL

# Markup, script and other documents a file could carry besides its picture (in a comment, a
# metadata block, after its end) for a browser or a viewer to find: a polyglot. Each pattern is
# long enough that a photo's compressed bytes, close to random, do not spell one by chance
# (all together, about one file in 100,000 at 10 MB).
SMUGGLED_CONTENT = re.compile(
    rb"<(?:script|iframe|html[\s>]|!doctype\s+html|\?php\s)|%PDF-[0-9]", re.IGNORECASE
)

SRGB = ImageCms.createProfile("sRGB")
logger = logging.getLogger(__name__)

NOT_A_PICTURE = "That file is not a PNG, JPEG, WebP or GIF picture."
SMUGGLING = (
    "That file carries web page code or a document besides its picture, so it was refused. "
    "Save the picture again from an image editor and upload that."
)
DAMAGED = "That picture is damaged or incomplete, so it could not be read."


class PictureRefused(ValueError):
    """Why an uploaded file was not taken, in words for its owner."""


@dataclass(frozen=True)
class Picture:
    digest: str
    sizes: dict[int, bytes]  # pixels per side -> WebP


def too_many_pixels(max_pixels: int) -> str:
    return (
        f"That picture has more than {max_pixels // 1_000_000} megapixels. "
        "Please upload a smaller one."
    )


def process_picture(data: bytes, *, max_pixels: int, max_pixels_whole: int) -> Picture:
    """The avatar drawn from ``data``, or ``PictureRefused`` saying why there is none.

    ``max_pixels`` limits a JPEG, which decodes at 1/2, 1/4 or 1/8 of its size while that still
    covers the largest avatar (a phone's 50-megapixel photo costs little); ``max_pixels_whole``
    limits the other formats, which decode whole."""
    try:
        largest = upright_square(decoded(data, max_pixels, max_pixels_whole))
    except PictureRefused:
        raise
    except UnidentifiedImageError:
        raise PictureRefused(NOT_A_PICTURE) from None
    except Image.DecompressionBombError:  # Pillow's own limit, far above these
        raise PictureRefused(too_many_pixels(min(max_pixels, max_pixels_whole))) from None
    except Exception:  # noqa: BLE001  a hostile file may fail anywhere in the decoder
        logger.warning("An uploaded picture could not be processed", exc_info=True)
        raise PictureRefused(DAMAGED) from None
    sizes = {
        pixels: webp(largest if pixels == PICTURE_SIZES[-1] else resized(largest, pixels))
        for pixels in PICTURE_SIZES
    }
    digest = hashlib.sha256(sizes[PICTURE_SIZES[-1]]).hexdigest()[:DIGEST_LENGTH]
    return Picture(digest=digest, sizes=sizes)


def decoded(data: bytes, max_pixels: int, max_pixels_whole: int) -> Image.Image:
    """The file's first frame, decoded (as small as the format allows), metadata and all."""
    checked_header(data, max_pixels, max_pixels_whole).verify()  # PNG's checksums, and more
    if SMUGGLED_CONTENT.search(data):  # a picture, and something else too
        raise PictureRefused(SMUGGLING)
    image = checked_header(data, max_pixels, max_pixels_whole)  # verify() spent the first
    image.draft("RGB", (PICTURE_SIZES[-1],) * 2)  # a JPEG: decoded reduced
    image.load()  # the first frame only; raises on a truncated file
    return image


def checked_header(data: bytes, max_pixels: int, max_pixels_whole: int) -> Image.Image:
    """The file opened as one of the accepted formats, its header read and nothing decoded."""
    image = Image.open(io.BytesIO(data), formats=list(ACCEPTED_FORMATS))
    limit = max_pixels if image.format == "JPEG" else max_pixels_whole
    if image.width * image.height > limit:
        raise PictureRefused(too_many_pixels(limit))
    return image


def upright_square(image: Image.Image) -> Image.Image:
    """The centred square at the largest size, upright, in sRGB, as RGB or RGBA, and with no
    metadata left on it. Cut and scaled first, so the rest works on a small picture: turning
    a picture about its centre keeps its centred square where it was."""
    mode = "RGBA" if image.has_transparency_data else "RGB"
    if image.mode in ("1", "P", "PA"):  # which Pillow would only scale by nearest neighbour
        image = image.convert(mode)
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    square = resized(image, PICTURE_SIZES[-1], box=(left, top, left + side, top + side))
    ImageOps.exif_transpose(square, in_place=True)  # from the metadata the copy carries
    square = in_srgb(square, mode)
    if square.mode != mode:
        square = square.convert(mode)
    square.info.clear()  # EXIF, ICC, XMP, comments: every later image copies what this holds
    return square


def in_srgb(image: Image.Image, mode: str) -> Image.Image:
    """The picture's colours as its embedded profile means them, in sRGB (what a picture
    without a profile is taken to be), as ``mode``: the profile itself is not kept."""
    profile = image.info.get("icc_profile")
    if not profile:
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        return ImageCms.profileToProfile(image, source, SRGB, outputMode=mode)
    except ImageCms.PyCMSError:
        return image  # a profile that cannot be read or applied: the colours as stored


def resized(image: Image.Image, pixels: int, box: tuple[int, int, int, int] | None = None):
    # reducing_gap: a cheap box reduction first, down to twice the size, then Lanczos.
    return image.resize((pixels, pixels), Image.Resampling.LANCZOS, box=box, reducing_gap=2.0)


def webp(image: Image.Image) -> bytes:
    output = io.BytesIO()
    # Lossy, with transparency kept. WebP's encoder writes metadata only when given it.
    image.save(output, "WEBP", quality=PICTURE_QUALITY, method=4)
    return output.getvalue()
