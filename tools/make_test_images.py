"""Write the small image fixtures of tests/resources/ (deterministic).

    python tools/make_test_images.py tests/resources

- exif/orient_{1..8}.jpg: a 16x12 four-colour quadrant image stored as a camera would for each
  EXIF orientation, so that read upright it always shows red top-left, green top-right, blue
  bottom-left and white bottom-right (the OpenCV imgcodecs test idea).
- corrupt.jpg (a JPEG cut in half), zero_bytes.jpg, not_an_image.jpg (text), blank.png.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import cv2
import numpy as np

RED, GREEN, BLUE, WHITE = (0, 0, 255), (0, 255, 0), (255, 0, 0), (255, 255, 255)


def upright() -> np.ndarray:
    image = np.zeros((12, 16, 3), np.uint8)
    image[:6, :8], image[:6, 8:], image[6:, :8], image[6:, 8:] = RED, GREEN, BLUE, WHITE
    return image


#: How to store an upright image so that applying orientation N restores it (inverse ops).
STORE = {
    1: lambda im: im,
    2: lambda im: cv2.flip(im, 1),
    3: lambda im: cv2.rotate(im, cv2.ROTATE_180),
    4: lambda im: cv2.flip(im, 0),
    5: cv2.transpose,  # transpose and transverse are their own inverses
    6: lambda im: cv2.rotate(im, cv2.ROTATE_90_COUNTERCLOCKWISE),
    7: lambda im: cv2.rotate(cv2.transpose(im), cv2.ROTATE_180),
    8: lambda im: cv2.rotate(im, cv2.ROTATE_90_CLOCKWISE),
}


def with_exif_orientation(jpeg: bytes, orientation: int) -> bytes:
    """Insert an APP1 Exif segment holding only the Orientation tag after SOI."""
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    payload = b"Exif\x00\x00" + tiff
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + segment + jpeg[2:]


def main(folder: Path) -> None:
    exif = folder / "exif"
    exif.mkdir(parents=True, exist_ok=True)
    for orientation, store in STORE.items():
        ok, buffer = cv2.imencode(".jpg", store(upright()), [cv2.IMWRITE_JPEG_QUALITY, 100])
        assert ok
        (exif / f"orient_{orientation}.jpg").write_bytes(
            with_exif_orientation(buffer.tobytes(), orientation)
        )
    page = np.full((300, 400, 3), 240, np.uint8)
    cv2.putText(page, "4096", (60, 200), cv2.FONT_HERSHEY_SIMPLEX, 3, (30, 30, 30), 8)
    ok, buffer = cv2.imencode(".jpg", page)
    data = buffer.tobytes()
    (folder / "corrupt.jpg").write_bytes(data[: len(data) // 2])
    (folder / "zero_bytes.jpg").write_bytes(b"")
    (folder / "not_an_image.jpg").write_text("this is a text file with a .jpg name\n")
    cv2.imwrite(str(folder / "blank.png"), np.full((480, 640), 235, np.uint8))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
