"""Images with no handwritten digits read as nothing: printed text, texture, noise, a tiny image."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import digitscan

WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "was",
    "for",
    "on",
    "that",
    "with",
    "as",
    "by",
    "at",
    "from",
    "his",
    "her",
    "which",
    "an",
    "be",
    "this",
    "had",
    "not",
    "are",
    "but",
    "were",
    "they",
    "all",
    "have",
    "one",
    "their",
    "more",
    "when",
    "who",
    "will",
    "would",
    "there",
    "been",
    "what",
    "about",
    "into",
]


def book_page(seed: int) -> np.ndarray:
    """A page of a book: lines of printed words, justified, a running title in capitals."""
    rng = np.random.default_rng(seed)
    page = np.full((1400, 1000, 3), 232, np.uint8)
    face = cv2.FontFace("sans")
    cv2.putText(page, "CHAPTER SEVEN: THE HARBOUR", (150, 90), (20, 20, 20), face, 44, 700)
    y = 170
    while y < 1340:
        line = " ".join(rng.choice(WORDS, int(rng.integers(7, 11))))
        cv2.putText(page, line, (80, y), (35, 35, 35), face, int(rng.integers(24, 32)), 400)
        y += 44
    return page


def wood_desk(seed: int) -> np.ndarray:
    """A wood desk photographed close: wavy grain, dark fibres along the board, blur."""
    rng = np.random.default_rng(seed)
    h, w = 900, 1200

    def smooth(sx: float, sy: float) -> np.ndarray:
        field = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), sx, sigmaY=sy)
        return field / field.std()

    yy = np.mgrid[0:h, 0:w][0].astype(np.float32)
    grain = np.sin((yy + 25 * smooth(60, 60)) / 7.0)
    fibres = np.minimum(smooth(25, 0.8), 0)  # short dark streaks along the grain
    tone = 150 + 18 * grain + 30 * fibres + 8 * smooth(2, 2)
    bgr = np.dstack([tone * 0.55, tone * 0.75, tone]).clip(0, 255).astype(np.uint8)
    return cv2.GaussianBlur(bgr, (3, 3), 0)


@pytest.mark.xfail(
    strict=True,
    reason="printed lower case reads as digits (o as 0, l as 1, e as 2): 25 and 41 digits on "
    "these pages, as in the previous release; the 'not a digit' class learned no letter that "
    "looks like a digit, and a string must be mostly not digits to be dropped as words",
)
@pytest.mark.parametrize("seed", [0, 1])
def test_a_page_of_printed_text_reads_as_nothing(seed: int) -> None:
    reading = digitscan.read(book_page(seed))
    assert len(reading.text.replace("\n", "")) <= 2


@pytest.mark.parametrize(
    "seed",
    [
        0,
        pytest.param(
            1,
            marks=pytest.mark.xfail(
                strict=True, reason="four dark knots of fibres read as 7, 7, 8 and 5"
            ),
        ),
    ],
)
def test_a_wood_desk_reads_as_nothing(seed: int) -> None:
    assert digitscan.read(wood_desk(seed)).text == ""


def test_noise_reads_as_nothing() -> None:
    noise = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    assert digitscan.read(noise).text == ""


def test_a_tiny_image_reads_as_nothing() -> None:
    rng = np.random.default_rng(0)
    tiny = (200 + rng.integers(0, 40, (30, 40, 3))).astype(np.uint8)
    tiny[10:20, 15:17] = 60  # a scratch
    assert digitscan.read(tiny).text == ""
