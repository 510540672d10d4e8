"""Loading images: any format OpenCV decodes, EXIF orientation applied, one colour layout out.

:func:`load_image` reads the file's bytes and decodes them with ``cv2.imdecode`` (which works
for non-ASCII paths), turns grey, alpha and 16-bit images into BGR uint8, and applies the EXIF
orientation tag of JPEGs (phones store most photos sideways with tag 6). Anything that is not a
decodable image is an :class:`InputError` naming the file and the reason.
"""

from __future__ import annotations

import logging
import struct
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from digitscan.errors import ConfigError, InputError, read_bytes

log = logging.getLogger(__name__)

#: The file suffixes ``digitscan batch`` looks for (:func:`digitscan.batch.list_images`).
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp"})
#: Refuse to decode images larger than this many pixels (a 20,000 x 20,000 PNG is 1.2 GB).
MAX_PIXELS = 120_000_000


def load_image(path: Path | str) -> NDArray[np.uint8]:
    """Read an image file as BGR uint8 ``(H, W, 3)``, upright.

    Args:
        path: The file (JPEG, PNG, TIFF, BMP, WebP...).

    Returns:
        BGR uint8 ``(H, W, 3)`` with the EXIF orientation applied.

    Raises:
        InputError: Missing, unreadable, empty, too large, or not a decodable image.

    Example:
        >>> load_image("samples/sticky-note.jpg").shape[2]
        3
    """
    path = Path(path)
    data = read_bytes(path, InputError)
    return decode_image(data, path)


def decode_image(data: bytes, path: Path | str | None = None) -> NDArray[np.uint8]:
    """Decode image bytes (see :func:`load_image`); ``path`` is only used in messages."""
    if not data:
        raise InputError("cannot decode image (0 bytes)", path=path)
    size = _header_size(data)
    if size is not None and size[0] * size[1] > MAX_PIXELS:
        raise InputError(
            f"image too large ({size[0]}x{size[1]} = {size[0] * size[1] / 1e6:.0f} MP; "
            f"the limit is {MAX_PIXELS / 1e6:.0f} MP)",
            path=path,
        )
    buffer = np.frombuffer(data, np.uint8)
    # UNCHANGED keeps alpha and 16-bit depth; it also skips EXIF rotation, applied below.
    image = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED)
    if image is None:
        raise InputError(
            f"cannot decode image ({len(data)} bytes; not an image OpenCV reads, or truncated)",
            path=path,
        )
    image = to_bgr8(image, path)
    orientation = exif_orientation(data)
    if orientation not in (None, 1):
        log.debug("%s: EXIF orientation %d applied", path, orientation)
        image = apply_orientation(image, orientation)
    return image


def to_bgr8(image: NDArray, path: Path | str | None = None) -> NDArray[np.uint8]:
    """Convert grey, grey+alpha, BGR, BGRA, 16-bit or float images to BGR uint8.

    Transparent pixels become white paper, as a viewer shows them on a page.

    Raises:
        InputError: A layout no image has (e.g. 5 channels).
    """
    image = np.asarray(image)
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype.kind == "f":
        image = np.clip(np.nan_to_num(image) * 255, 0, 255).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise InputError(f"unsupported pixel type {image.dtype}", path=path)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim != 3 or image.shape[2] not in (1, 2, 3, 4):
        raise InputError(f"unsupported image layout {image.shape}", path=path)
    channels = image.shape[2]
    if channels == 1:
        return cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2BGR)
    if channels == 3:
        return image
    colour = image[:, :, :1] if channels == 2 else image[:, :, :3]
    alpha = image[:, :, -1:].astype(np.float32) / 255
    blended = colour.astype(np.float32) * alpha + 255 * (1 - alpha)
    out = np.round(blended).astype(np.uint8)
    return cv2.cvtColor(out[:, :, 0], cv2.COLOR_GRAY2BGR) if channels == 2 else out


def check_image_array(image: NDArray, name: str = "image") -> NDArray[np.uint8]:
    """Validate an in-memory image and convert it to BGR uint8 ``(H, W, 3)``.

    Raises:
        ConfigError: Not 2-D or 3-D, empty, or of an unsupported dtype or channel count.
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3):
        raise ConfigError(
            f"`{name}` must be a 2-D (grey) or 3-D (colour) array, got {image.ndim} dimensions"
        )
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ConfigError(f"`{name}` is empty (shape {image.shape})")
    if image.dtype.kind not in "uf" or image.dtype.itemsize > 8:
        raise ConfigError(f"`{name}` must be uint8, uint16 or float, got {image.dtype}")
    try:
        return to_bgr8(image)
    except InputError as exc:
        raise ConfigError(f"`{name}`: {exc.message}") from None


def apply_orientation(image: NDArray[np.uint8], orientation: int) -> NDArray[np.uint8]:
    """Turn an image stored with EXIF orientation 1-8 upright."""
    ops = {
        2: lambda im: cv2.flip(im, 1),
        3: lambda im: cv2.rotate(im, cv2.ROTATE_180),
        4: lambda im: cv2.flip(im, 0),
        5: lambda im: cv2.flip(cv2.rotate(im, cv2.ROTATE_90_CLOCKWISE), 1),
        6: lambda im: cv2.rotate(im, cv2.ROTATE_90_CLOCKWISE),
        7: lambda im: cv2.flip(cv2.rotate(im, cv2.ROTATE_90_COUNTERCLOCKWISE), 1),
        8: lambda im: cv2.rotate(im, cv2.ROTATE_90_COUNTERCLOCKWISE),
    }
    op = ops.get(orientation)
    return image if op is None else op(image)


def exif_orientation(data: bytes) -> int | None:
    """The EXIF orientation tag (1-8) of JPEG bytes, or None if there is none.

    Reads only the APP1 ``Exif`` segment's first IFD; any malformed structure gives None.
    """
    if data[:2] != b"\xff\xd8":
        return None
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker in (0xD9, 0xDA):  # end of image / start of scan: no EXIF before the pixels
            return None
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        segment = data[pos + 4 : pos + 2 + length]
        if marker == 0xE1 and segment[:6] == b"Exif\x00\x00":
            return _tiff_orientation(segment[6:])
        pos += 2 + length
    return None


def _tiff_orientation(tiff: bytes) -> int | None:
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return None
    endian = "<" if tiff[:2] == b"II" else ">"
    (ifd,) = struct.unpack(endian + "I", tiff[4:8])
    if ifd + 2 > len(tiff):
        return None
    (count,) = struct.unpack(endian + "H", tiff[ifd : ifd + 2])
    for i in range(count):
        entry = ifd + 2 + 12 * i
        if entry + 12 > len(tiff):
            return None
        tag, kind, _ = struct.unpack(endian + "HHI", tiff[entry : entry + 8])
        if tag == 0x0112 and kind == 3:  # Orientation, SHORT
            (value,) = struct.unpack(endian + "H", tiff[entry + 8 : entry + 10])
            return value if 1 <= value <= 8 else None
    return None


def _header_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG, JPEG or BMP header, without decoding.

    Refusing huge images before decoding keeps memory bounded (a 20,000 x 20,000 PNG would
    take 1.2 GB). Other formats are left to OpenCV's own limit.
    """
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:2] == b"BM" and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return abs(width), abs(height)
    if data[:2] == b"\xff\xd8":
        return _jpeg_size(data)
    return None


#: JPEG start-of-frame markers (baseline, progressive, lossless...), which carry the size.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a JPEG's start-of-frame segment (None if there is none)."""
    pos = 2
    while pos + 9 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        if marker == 0xD9 or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        pos += 2 + length
    return None
