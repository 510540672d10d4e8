from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from digitscan.batch import list_images
from digitscan.errors import ConfigError, InputError
from digitscan.io import check_image_array, exif_orientation, load_image

RESOURCES = Path(__file__).parent / "resources"
QUADRANTS = {(2, 3): (0, 0, 255), (2, 12): (0, 255, 0), (9, 3): (255, 0, 0), (9, 12): (255,) * 3}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied(orientation: int) -> None:
    path = RESOURCES / "exif" / f"orient_{orientation}.jpg"
    assert exif_orientation(path.read_bytes()) == orientation
    image = load_image(path)
    assert image.shape == (12, 16, 3) and image.dtype == np.uint8
    for (row, col), colour in QUADRANTS.items():
        assert np.abs(image[row, col].astype(int) - colour).max() < 40, (orientation, row, col)


def test_no_exif() -> None:
    ok, buffer = cv2.imencode(".jpg", np.zeros((4, 4, 3), np.uint8))
    assert exif_orientation(buffer.tobytes()) is None
    assert exif_orientation(b"\x89PNG...") is None


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (np.full((5, 6), 100, np.uint8), (100, 100, 100)),  # grey
        (np.full((5, 6), 100 * 257, np.uint16), (100, 100, 100)),  # 16-bit grey
        (
            np.dstack([np.full((5, 6), 10, np.uint8)] * 3 + [np.zeros((5, 6), np.uint8)]),
            (255, 255, 255),
        ),  # fully transparent: white paper
        (
            np.dstack([np.full((5, 6), 10, np.uint8)] * 3 + [np.full((5, 6), 255, np.uint8)]),
            (10, 10, 10),
        ),  # opaque BGRA
    ],
)
def test_formats_become_bgr8(tmp_path: Path, image: np.ndarray, expected) -> None:
    path = tmp_path / "x.png"
    assert cv2.imwrite(str(path), image)
    loaded = load_image(path)
    assert loaded.shape == (5, 6, 3) and loaded.dtype == np.uint8
    assert tuple(int(v) for v in loaded[2, 2]) == expected


@pytest.mark.parametrize("suffix", [".tif", ".bmp", ".webp", ".png", ".jpg"])
def test_common_formats(tmp_path: Path, suffix: str) -> None:
    image = np.zeros((20, 30, 3), np.uint8)
    image[:, 15:] = 200
    path = tmp_path / f"x{suffix}"
    assert cv2.imwrite(str(path), image)
    loaded = load_image(path)
    assert loaded.shape == (20, 30, 3) and abs(int(loaded[10, 25, 0]) - 200) < 10


def test_non_ascii_path(tmp_path: Path) -> None:
    path = tmp_path / "chèque-№1.png"
    path.write_bytes(cv2.imencode(".png", np.zeros((3, 3), np.uint8))[1].tobytes())
    assert load_image(path).shape == (3, 3, 3)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("zero_bytes.jpg", "0 bytes"),
        ("corrupt.jpg", "cannot decode image"),
        ("not_an_image.jpg", "cannot decode image"),
        ("missing.jpg", "no such file"),
        ("exif", "is a folder"),
    ],
)
def test_bad_files_name_the_file_and_reason(name: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        load_image(RESOURCES / name)
    assert name in str(info.value)


def test_huge_png_refused_before_decoding(tmp_path: Path) -> None:
    # A valid PNG header claiming 20,000 x 20,000 pixels (its data is never reached).
    header = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR"
    ihdr = struct.pack(">IIBBBBB", 20_000, 20_000, 8, 0, 0, 0, 0)
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    (tmp_path / "huge.png").write_bytes(header + ihdr + crc)
    with pytest.raises(InputError, match="too large"):
        load_image(tmp_path / "huge.png")


@pytest.mark.parametrize("suffix", [".jpg", ".bmp"])
def test_huge_jpeg_and_bmp_refused_before_decoding(tmp_path: Path, suffix: str) -> None:
    # A real small image whose header is patched to claim 20,000 x 20,000 pixels.
    ok, buffer = cv2.imencode(suffix, np.full((8, 8, 3), 200, np.uint8))
    data = bytearray(buffer.tobytes())
    if suffix == ".bmp":
        data[18:26] = struct.pack("<ii", 20_000, 20_000)
    else:
        sof = data.index(b"\xff\xc0")
        data[sof + 5 : sof + 9] = struct.pack(">HH", 20_000, 20_000)
    (tmp_path / f"huge{suffix}").write_bytes(bytes(data))
    with pytest.raises(InputError, match="too large"):
        load_image(tmp_path / f"huge{suffix}")


def test_check_image_array() -> None:
    assert check_image_array(np.zeros((4, 5), np.uint8)).shape == (4, 5, 3)
    assert check_image_array(np.ones((4, 5, 3), np.float32)).max() == 255
    with pytest.raises(ConfigError, match="2-D .* or 3-D"):
        check_image_array(np.zeros(5, np.uint8))
    with pytest.raises(ConfigError, match="empty"):
        check_image_array(np.zeros((0, 5), np.uint8))
    with pytest.raises(ConfigError, match="dtype|uint8"):
        check_image_array(np.zeros((4, 5), np.complex64))
    with pytest.raises(ConfigError, match="layout"):
        check_image_array(np.zeros((4, 5, 5), np.uint8))


def test_list_images(tmp_path: Path) -> None:
    for name in ("b.JPG", "a.png", "notes.txt", "sub/c.jpg"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"")

    def names(**kwargs) -> list[str]:
        return [p.name for p in list_images(tmp_path, **kwargs)[0]]

    assert names() == ["a.png", "b.JPG"]
    assert names(recursive=True) == ["a.png", "b.JPG", "c.jpg"]
    assert names(recursive=True, pattern="sub/*") == ["c.jpg"]
    assert names(pattern="*.txt") == ["notes.txt"]
