"""Render realistic photos and scans of handwritten digits, with their expected readings.

    python -m digitscan.synth --data ../shared/data/mnist --out samples [--seed 1]

Every scene is drawn from real handwriting (MNIST digits, the *training* split by default so
the test split stays for measuring the classifiers) composed onto paper: cheque amount boxes,
forms with one digit per comb box, ruled and squared notebook pages with several lines, a
sticky note on a desk, plain scans. Then the camera: perspective, rotation, shadows and uneven
light, blur, noise, JPEG compression, at sizes from 640x480 to 12 MP. Each image gets a
``NAME.gt.txt`` with one expected digit string per line, top to bottom.

The same seed always renders the same files. ``bench/photos.py`` uses this module with the
MNIST *test* digits to measure reading accuracy on photos whose digits no model has seen, and
:mod:`digitscan.photocrops` with the *training* digits to teach the classifier what the
pipeline's crops of photographed digits look like (every rendered digit's box is known).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from digitscan.mnist import load_mnist
from digitscan.types import BBox

Image = NDArray[np.uint8]

INKS = {"black": (35, 30, 30), "blue": (150, 60, 20), "dark-blue": (110, 40, 25)}
#: Inks a whole photo can be written in instead (``--ink``): never drawn at random, so the
#: photos of a seed stay what they were. Pencil is as light as printed ruling.
OTHER_INKS = {"red": (45, 40, 190), "pencil": (120, 120, 125)}
Ink = tuple[int, int, int]
PRINT = (70, 70, 70)


@dataclass
class Pen:
    """How digits are written: ink colour (BGR), stroke thickness factor, digit height in px."""

    ink: Ink
    thickness: float  # 0.6 thin ballpoint ... 1.8 felt pen
    height_px: int

    def __post_init__(self) -> None:
        if self.ink == OTHER_INKS["pencil"]:
            self.thickness = min(self.thickness, _PENCIL_MAX_THICKNESS)


#: A pencil's line is no wider than a ballpoint's.
_PENCIL_MAX_THICKNESS = 1.0


@dataclass
class Scene:
    """A page being drawn.

    Holds the BGR paper image, the expected strings with their y position, and each
    handwritten digit's label with the four corners ``(4, 2)`` of its ink in page pixels.
    """

    page: Image
    lines: list[tuple[float, str]] = field(default_factory=list)
    digits: list[tuple[int, NDArray[np.float32]]] = field(default_factory=list)

    def ink_digit(
        self, coverage: NDArray[np.float32], x: int, y: int, ink: tuple[int, int, int], label: int
    ) -> None:
        """Write one digit's ink (from :func:`render_digit`) at ``(x, y)`` and note its box."""
        blend_ink(self.page, coverage, x, y, ink)
        ys, xs = np.nonzero(coverage > 0.25)
        if len(xs):
            x0, y0, x1, y1 = x + xs.min(), y + ys.min(), x + xs.max() + 1, y + ys.max() + 1
            corners = np.float32([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
            self.digits.append((label, corners))

    def expected(self) -> list[str]:
        """The strings top to bottom."""
        return [text for _, text in sorted(self.lines)]


class DigitSource:
    """Draws random MNIST digits of a requested label."""

    def __init__(
        self, images: NDArray[np.uint8], labels: NDArray[np.uint8], rng: np.random.Generator
    ) -> None:
        self.by_label = {d: images[labels == d] for d in range(10)}
        self.rng = rng

    def get(self, label: int) -> NDArray[np.uint8]:
        """A random 28x28 digit of ``label``."""
        pool = self.by_label[label]
        return pool[self.rng.integers(len(pool))]


def render_digit(
    digit28: NDArray[np.uint8], pen: Pen, rng: np.random.Generator
) -> NDArray[np.float32]:
    """An ink coverage map (float 0-1) of one digit at ``pen.height_px`` tall, pen-like edges."""
    ys, xs = np.nonzero(digit28 > 30)
    crop = digit28[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    scale = pen.height_px / crop.shape[0]
    w = max(2, round(crop.shape[1] * scale))
    big = cv2.resize(crop, (w, pen.height_px), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    big = cv2.GaussianBlur(big, (0, 0), max(0.6, scale * 0.5))
    # A low cut keeps MNIST's faint joins connected, as a pen stroke is; the pen's width is
    # then set by eroding (thin ballpoint) or dilating (felt pen) in proportion to the height.
    soft = max(8.0, 60 / scale)
    coverage = np.clip((big - 90) / soft + 0.5, 0, 1)
    change = round(abs(pen.thickness - 1) * pen.height_px * 0.05)
    if change:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * change + 1,) * 2)
        op = cv2.dilate if pen.thickness > 1 else cv2.erode
        thinned = op(coverage, kernel)
        # Never erase a stroke entirely: keep the original where erosion leaves nothing.
        coverage = thinned if pen.thickness > 1 or thinned.max() > 0.5 else coverage
    coverage *= rng.uniform(0.85, 1.0)  # ink density
    pad = max(2, pen.height_px // 10)
    return np.pad(coverage, pad)


def write_string(
    scene: Scene,
    text: str,
    x: int,
    y_baseline: int,
    pen: Pen,
    src: DigitSource,
    rng: np.random.Generator,
    spacing: float = 0.25,
    jitter: float = 0.06,
    record: bool = True,
) -> int:
    """Write ``text`` (digits; '.', ',' and '-' drawn as marks) with its baseline at y.

    Returns the x after the last character. ``spacing`` is the gap as a fraction of the digit
    height (negative: touching digits).
    """
    cursor = x
    digits = ""
    for char in text:
        h = round(pen.height_px * rng.uniform(1 - jitter, 1 + jitter))
        if char.isdigit():
            coverage = render_digit(src.get(int(char)), Pen(pen.ink, pen.thickness, h), rng)
            digits += char
        else:
            coverage = render_mark(char, h, pen)
        top = y_baseline - coverage.shape[0] + round(rng.uniform(-0.05, 0.05) * h)
        if char in ".,":
            top = y_baseline - coverage.shape[0] + max(2, h // 10)
        if char.isdigit():
            scene.ink_digit(coverage, cursor, top, pen.ink, int(char))
        else:
            blend_ink(scene.page, coverage, cursor, top, pen.ink)
        cursor += coverage.shape[1] + round(spacing * pen.height_px * rng.uniform(0.7, 1.3))
    if record and digits:
        scene.lines.append((y_baseline - pen.height_px / 2, digits))
    return cursor


def write_fitted(
    scene: Scene,
    text: str,
    x: int,
    y_baseline: int,
    right: int,
    pen: Pen,
    src: DigitSource,
    rng: np.random.Generator,
    spacing: float,
) -> None:
    """Write ``text`` as :func:`write_string` does, smaller if need be to end before ``right``.

    A writer running out of room writes smaller, not off the paper. Each retry replays the
    same random draws (same digits, same jitter), so only the pen's size changes, and the
    photos rendered after this one are the same as if no retry had been needed.
    """
    state = rng.bit_generator.state
    page, digits = scene.page.copy(), len(scene.digits)
    for _ in range(4):
        end = write_string(scene, text, x, y_baseline, pen, src, rng, spacing, record=False)
        if end <= right:
            return
        rng.bit_generator.state = state
        scene.page[:] = page
        del scene.digits[digits:]
        shrink = 0.97 * (right - x) / (end - x)
        pen = Pen(pen.ink, pen.thickness, max(8, round(pen.height_px * shrink)))
    write_string(scene, text, x, y_baseline, pen, src, rng, spacing, record=False)


def render_mark(char: str, h: int, pen: Pen) -> NDArray[np.float32]:
    """Decimal points, commas and dashes, as written in amounts."""
    width = max(2, round(h * 0.09 * pen.thickness))
    if char == "-":
        canvas = np.zeros((h, h // 2 + 2 * width), np.float32)
        y = h // 2
        cv2.line(canvas, (width, y), (canvas.shape[1] - width, y + 1), 1.0, width, cv2.LINE_AA)
    else:
        canvas = np.zeros((max(4, h // 4), max(4, h // 6)), np.float32)
        c = (canvas.shape[1] // 2, canvas.shape[0] // 3)
        cv2.circle(canvas, c, max(1, width * 2 // 3 + 1), 1.0, -1, cv2.LINE_AA)
        if char == ",":
            cv2.line(canvas, c, (c[0] - width, canvas.shape[0] - 1), 1.0, width, cv2.LINE_AA)
    return canvas


def pick_ink(rng: np.random.Generator, names: list[str], ink: Ink | None) -> Ink:
    """One of the named :data:`INKS` at random, or ``ink`` (the draw is made all the same)."""
    drawn = INKS[str(rng.choice(names))]
    return drawn if ink is None else ink


def blend_ink(page: Image, coverage: NDArray[np.float32], x: int, y: int, ink: Ink) -> None:
    """Multiply ink onto the page (like real ink: darkens what is under it)."""
    h, w = coverage.shape
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(page.shape[1], x + w), min(page.shape[0], y + h)
    if x1 <= x0 or y1 <= y0:
        return
    cov = coverage[y0 - y : y1 - y, x0 - x : x1 - x, None]
    region = page[y0:y1, x0:x1].astype(np.float32)
    ink_rgb = np.array(ink, np.float32)
    page[y0:y1, x0:x1] = np.clip(region * (1 - cov) + region * (ink_rgb / 255) * cov, 0, 255)


def paper(h: int, w: int, rng: np.random.Generator, tint=(238, 242, 245)) -> Image:
    """Paper with a faint fibre texture."""
    base = np.empty((h, w, 3), np.float32)
    base[:] = np.array(tint, np.float32) + rng.normal(0, 3, 3)
    small = rng.normal(0, 1, (h // 8 + 1, w // 8 + 1)).astype(np.float32)
    texture = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)[..., None]
    return np.clip(base + texture * 2.5 + rng.normal(0, 1.5, (h, w, 1)), 0, 255).astype(np.uint8)


def print_text(page: Image, text: str, x: int, y: int, size: float, colour=PRINT) -> None:
    """Printed (typeset) words: labels on forms and cheques, never digits."""
    cv2.putText(
        page,
        text,
        (x, y),
        cv2.FONT_HERSHEY_SIMPLEX,
        size,
        colour,
        max(1, round(size * 1.6)),
        cv2.LINE_AA,
    )


def random_number(rng: np.random.Generator, lo: int = 2, hi: int = 6) -> str:
    """A number of ``lo`` to ``hi`` digits, not starting with 0."""
    n = int(rng.integers(lo, hi + 1))
    first = str(rng.integers(1, 10))
    return first + "".join(str(d) for d in rng.integers(0, 10, n - 1))


# ------------------------------------------------------------------ scenes (flat pages)


def scene_cheque(rng, src, size, ink: Ink | None = None) -> Scene:
    """A cheque: printed labels, the courtesy-amount box with a "$" and an amount in it."""
    w, h = size
    scene = Scene(paper(h, w, rng, tint=(215, 235, 240)))
    page = scene.page
    cv2.rectangle(page, (w // 40, h // 30), (w - w // 40, h - h // 30), (150, 160, 160), 2)
    print_text(page, "PAY TO THE ORDER OF", w // 20, h // 4, w / 1400)
    cv2.line(page, (w // 3, h // 4 + 4), (w * 2 // 3, h // 4 + 4), PRINT, 1)
    print_text(page, "DOLLARS", w * 3 // 4, h // 2, w / 1600)
    box = (w * 2 // 3, h // 3 - h // 12, w - w // 12, h // 3 + h // 12)
    print_text(page, "$", box[0] - w // 30, box[3] - h // 30, w / 900)
    cv2.rectangle(page, box[:2], box[2:], PRINT, max(1, w // 500))
    amount = random_number(rng, 2, 4)
    cents = rng.random() < 0.5
    pen = Pen(
        pick_ink(rng, ["black", "blue"], ink), rng.uniform(0.8, 1.4), round((box[3] - box[1]) * 0.6)
    )
    text = amount + ("." + "".join(str(d) for d in rng.integers(0, 10, 2)) if cents else "")
    left, baseline = box[0] + w // 60, box[3] - (box[3] - box[1]) // 6
    # The returned end includes a gap and the digit's margin: ink may reach the box's side.
    right = box[2] + pen.height_px // 4
    write_fitted(scene, text, left, baseline, right, pen, src, rng, spacing=0.15)
    scene.lines.append((box[1], text.replace(".", "")))
    cv2.line(page, (w // 12, h * 3 // 4), (w * 5 // 12, h * 3 // 4), PRINT, 1)
    print_text(page, "MEMO", w // 12, h * 3 // 4 - 6, w / 1800)
    return scene


def scene_form(rng, src, size, ink: Ink | None = None) -> Scene:
    """A form: rows of comb boxes (grey or red drop-out), one digit per box."""
    w, h = size
    scene = Scene(paper(h, w, rng, tint=(245, 246, 246)))
    rows = int(rng.integers(2, 4))
    labels = ["POSTCODE", "PHONE", "ACCOUNT", "DATE", "AMOUNT", "ID"]
    cell = min(w // 14, h // (rows * 2 + 1))
    colour = (60, 60, 200) if rng.random() < 0.4 else PRINT  # red drop-out forms exist too
    for r in range(rows):
        y = round(h * (r + 0.7) / (rows + 0.4))
        n = int(rng.integers(4, 9))
        x0 = w // 4
        print_text(
            scene.page, labels[(r + rng.integers(6)) % 6], w // 30, y + cell // 2, w / 2200, colour
        )
        digits = "".join(str(d) for d in rng.integers(0, 10, n))
        pen = Pen(pick_ink(rng, list(INKS), ink), rng.uniform(0.7, 1.5), round(cell * 0.72))
        for i, char in enumerate(digits):
            bx = x0 + i * cell
            cv2.rectangle(scene.page, (bx, y), (bx + cell, y + cell), colour, max(1, cell // 25))
            cov = render_digit(src.get(int(char)), pen, rng)
            dx = round((cell - cov.shape[1]) / 2 + rng.uniform(-0.08, 0.08) * cell)
            dy = round((cell - cov.shape[0]) / 2 + rng.uniform(-0.06, 0.1) * cell)
            scene.ink_digit(cov, bx + dx, y + dy, pen.ink, int(char))
        scene.lines.append((y + cell / 2, digits))
    return scene


def scene_ruled(rng, src, size, squared: bool = False, ink: Ink | None = None) -> Scene:
    """A ruled (or squared) notebook page with numbers written on or across its lines."""
    w, h = size
    scene = Scene(paper(h, w, rng, tint=(242, 244, 246)))
    gap = round(h / rng.uniform(9, 14))
    line_colour = (205, 170, 140) if not squared else (200, 185, 170)
    for y in range(gap, h, gap):
        cv2.line(scene.page, (0, y), (w, y), line_colour, 1 + (rng.random() < 0.3), cv2.LINE_AA)
    if squared:
        for x in range(gap // 2, w, gap):
            cv2.line(scene.page, (x, 0), (x, h), line_colour, 1, cv2.LINE_AA)
    else:
        cv2.line(scene.page, (w // 8, 0), (w // 8, h), (120, 120, 220), 2, cv2.LINE_AA)
    n_lines = int(rng.integers(2, 5))
    rows: list[int] = []
    for row in rng.permutation(np.arange(2, h // gap - 1)):
        if all(abs(int(row) - r) >= 2 for r in rows):  # a free ruled line between strings
            rows.append(int(row))
        if len(rows) == n_lines:
            break
    for row in sorted(rows):
        pen = Pen(
            pick_ink(rng, list(INKS), ink),
            rng.uniform(0.7, 1.6),
            round(gap * rng.uniform(0.7, 1.0)),
        )
        baseline = row * gap + round(gap * rng.uniform(-0.05, 0.15))  # sits on or crosses it
        x = w // 8 + round(rng.uniform(0.03, 0.15) * w)
        spacing = rng.choice([rng.uniform(-0.08, 0.0), rng.uniform(0.1, 0.5)], p=[0.25, 0.75])
        text = random_number(rng, 2, 7)
        x = write_string(scene, text, x, baseline, pen, src, rng, spacing=spacing)
        second = random_number(rng, 2, 4)
        room = x + 2.5 * pen.height_px + len(second) * pen.height_px * 1.1
        if rng.random() < 0.35 and room < w * 0.95:  # a second number on the line, far apart
            write_string(
                scene, second, x + round(2.5 * pen.height_px), baseline, pen, src, rng, spacing=0.3
            )
            last = scene.lines.pop()
            scene.lines.append((last[0] + 0.001, last[1]))
    return scene


def scene_sticky(rng, src, size, ink: Ink | None = None) -> Scene:
    """A yellow sticky note with a number, rotated on a wooden desk."""
    w, h = size
    desk = np.empty((h, w, 3), np.float32)
    wood = np.array([60, 90, 130], np.float32) * rng.uniform(0.6, 1.1)
    grain = cv2.resize(rng.normal(0, 1, (h // 40 + 1, 8)).astype(np.float32), (w, h))
    desk[:] = wood + grain[..., None] * 12
    page = np.clip(desk, 0, 255).astype(np.uint8)
    side = round(min(w, h) * rng.uniform(0.55, 0.75))
    note = paper(side, side, rng, tint=(120, 235, 250))
    scene = Scene(note)
    text = random_number(rng, 2, 5)
    spacing = 0.2
    # Digits are ~0.6-1.0 of their height wide plus padding: size the pen so the string fits.
    height = round(min(side * 0.4, side * 0.8 / (len(text) * (1.0 + spacing))))
    pen = Pen(pick_ink(rng, ["black", "blue"], ink), rng.uniform(1.0, 1.8), height)
    baseline = round(side * 0.62)
    write_fitted(
        scene, text, round(side * 0.1), baseline, round(side * 0.97), pen, src, rng, spacing
    )
    scene.lines.append((baseline - pen.height_px / 2, text))
    angle = rng.uniform(-12, 12)
    matrix = cv2.getRotationMatrix2D((side / 2, side / 2), angle, 1.0)
    matrix[:, 2] += (
        (w - side) / 2 + rng.uniform(-0.1, 0.1) * w,
        (h - side) / 2 + rng.uniform(-0.05, 0.05) * h,
    )
    mask = cv2.warpAffine(np.full((side, side), 255, np.uint8), matrix, (w, h))
    warped = cv2.warpAffine(note, matrix, (w, h))
    shadow = cv2.GaussianBlur(
        cv2.warpAffine(
            np.full((side, side), 255, np.uint8), matrix + [[0, 0, 6], [0, 0, 8]], (w, h)
        ),
        (0, 0),
        6,
    )
    page = (page * (1 - 0.35 * shadow[..., None] / 255)).astype(np.uint8)
    m = mask[..., None].astype(np.float32) / 255
    page = (page * (1 - m) + warped * m).astype(np.uint8)
    on_desk = [(label, cv2.transform(c[None], matrix)[0]) for label, c in scene.digits]
    return Scene(page, scene.lines, on_desk)


def scene_plain(rng, src, size, ink: Ink | None = None) -> Scene:
    """Plain paper with one to three numbers, some with a decimal comma."""
    w, h = size
    scene = Scene(paper(h, w, rng, tint=(248, 248, 248)))
    n = int(rng.integers(1, 4))
    band = h / (n + 1)
    for i in range(n):
        x = round(w * rng.uniform(0.08, 0.3))
        text = random_number(rng, 1, 6)
        if rng.random() < 0.25 and len(text) > 2:
            text = text[:-2] + "," + text[-2:]
        spacing = rng.uniform(0.05, 0.6)
        # Tall enough to read, small enough that the whole string fits on the page.
        fits = (w * 0.92 - x) / (len(text) * (0.9 + spacing))
        pen = Pen(
            pick_ink(rng, list(INKS), ink),
            rng.uniform(0.6, 1.6),
            round(min(band * rng.uniform(0.3, 0.5), fits)),
        )
        baseline = round(band * (i + 1) + pen.height_px / 2)
        write_fitted(scene, text, x, baseline, round(w * 0.97), pen, src, rng, spacing)
        scene.lines.append((band * (i + 1), text.replace(",", "")))
    return scene


#: Printed digits' typefaces (OpenCV's Hershey fonts) and their stroke weights.
_PRINT_FONTS = (
    cv2.FONT_HERSHEY_SIMPLEX,
    cv2.FONT_HERSHEY_DUPLEX,
    cv2.FONT_HERSHEY_COMPLEX,
    cv2.FONT_HERSHEY_TRIPLEX,
)


def print_digit(scene: Scene, char: str, cell: tuple[int, int, int], rng) -> None:
    """A printed digit centred in a square cell ``(x, y, side)``, noted as a digit."""
    x, y, side = cell
    font = _PRINT_FONTS[int(rng.integers(len(_PRINT_FONTS)))]
    thick = max(1, round(side * rng.uniform(0.04, 0.09)))
    scale = cv2.getFontScaleFromHeight(font, round(side * rng.uniform(0.45, 0.65)), thick)
    (tw, th), _ = cv2.getTextSize(char, font, scale, thick)
    mask = np.zeros(scene.page.shape[:2], np.uint8)
    origin = (x + (side - tw) // 2, y + (side + th) // 2)
    cv2.putText(mask, char, origin, font, scale, 255, thick, cv2.LINE_AA)
    ys, xs = np.nonzero(mask > 64)
    if not len(xs):
        return
    blend_ink(scene.page, mask.astype(np.float32) / 255, 0, 0, PRINT)
    x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
    scene.digits.append((int(char), np.float32([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])))


def scene_grid(rng, src, size, ink: Ink | None = None, tight: bool = False) -> Scene:
    """A filled 9x9 puzzle grid filling most of the page: printed givens, handwritten answers.

    Not in :data:`SCENES` (a seed's photos stay what they were): render it by name. Each row's
    digits left to right are one expected string. ``tight``: the page is cut to the grid
    with a thin margin, as a photo warped to the grid's corners is.
    """
    w, h = size
    scene = Scene(paper(h, w, rng, tint=(236, 238, 240)))
    fill = rng.uniform(0.9, 0.97) if tight else rng.uniform(0.8, 0.94)
    side = round(min(w, h) * fill) // 9 * 9
    left, top = (w - side) // 2, (h - side) // 2
    cell = side // 9
    thin, thick = max(1, round(cell * 0.02)), max(2, round(cell * rng.uniform(0.04, 0.08)))
    for i in range(10):
        width = thick if i % 3 == 0 else thin
        cv2.line(scene.page, (left + i * cell, top), (left + i * cell, top + side), PRINT, width)
        cv2.line(scene.page, (left, top + i * cell), (left + side, top + i * cell), PRINT, width)
    colour = OTHER_INKS["pencil"] if ink is None and rng.random() < 0.5 else ink
    pen = Pen(pick_ink(rng, list(INKS), colour), rng.uniform(0.7, 1.3), round(cell * 0.6))
    given, written = rng.uniform(0.25, 0.4), rng.uniform(0.1, 0.5)
    for r in range(9):
        row = ""
        for c in range(9):
            x, y, draw = left + c * cell, top + r * cell, rng.random()
            char = str(rng.integers(1, 10))
            if draw < given:
                print_digit(scene, char, (x, y, cell), rng)
            elif draw < given + written:
                h_px = round(pen.height_px * rng.uniform(0.8, 1.15))
                cov = render_digit(src.get(int(char)), Pen(pen.ink, pen.thickness, h_px), rng)
                dx = round((cell - cov.shape[1]) / 2 + rng.uniform(-0.1, 0.1) * cell)
                dy = round((cell - cov.shape[0]) / 2 + rng.uniform(-0.08, 0.1) * cell)
                scene.ink_digit(cov, x + dx, y + dy, pen.ink, int(char))
            else:
                continue
            row += char
        if row:
            scene.lines.append((top + (r + 0.5) * cell, row))
    return scene


SCENES: dict[str, Callable[..., Scene]] = {
    "cheque": scene_cheque,
    "form": scene_form,
    "ruled": scene_ruled,
    "squared": lambda rng, src, size, ink=None: scene_ruled(rng, src, size, True, ink),
    "sticky": scene_sticky,
    "plain": scene_plain,
}
#: Scenes rendered only by name (:func:`render`), never in the seeded rotation of
#: :data:`SCENES`.
MORE_SCENES: dict[str, Callable[..., Scene]] = {"grid": scene_grid}


# ------------------------------------------------------------------ the camera


@dataclass
class Camera:
    """How the page is photographed (see :func:`random_camera`)."""

    tilt: float = 0.0  # perspective strength (0 flat scan ... 0.12 strong angle)
    rotation_deg: float = 0.0
    shadow: float = 0.0  # 0 none ... 0.6 deep shadow
    vignette: float = 0.0
    blur_px: float = 0.0
    noise: float = 0.0
    jpeg_quality: int = 92


def photograph(
    scene: Scene, out_size: tuple[int, int], cam: Camera, rng
) -> tuple[Image, NDArray[np.float64]]:
    """Place the page in the frame as a phone would see it: ``(image, page-to-image 3x3)``."""
    page = scene.page
    ph, pw = page.shape[:2]
    w, h = out_size
    margin = 0.06 if cam.tilt or cam.rotation_deg else 0.0
    src = np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]])
    scale = min(w * (1 - 2 * margin) / pw, h * (1 - 2 * margin) / ph)
    cw, ch = pw * scale, ph * scale
    cx, cy = w / 2, h / 2
    corners = np.float32(
        [[-cw / 2, -ch / 2], [cw / 2, -ch / 2], [cw / 2, ch / 2], [-cw / 2, ch / 2]]
    )
    a = math.radians(cam.rotation_deg)
    rot = np.float32([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    corners = corners @ rot.T
    corners += rng.uniform(-cam.tilt, cam.tilt, (4, 2)).astype(np.float32) * [cw, ch]
    dst = corners + [cx, cy]
    matrix = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    background = np.array([rng.uniform(40, 120)] * 3, np.float32) * [1.0, 0.95, 0.9]
    frame = cv2.warpPerspective(
        page,
        matrix,
        (w, h),
        flags=cv2.INTER_AREA,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=tuple(float(v) for v in background),
    )
    img = frame.astype(np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if cam.shadow:
        # A soft shadow (a hand or the phone) across part of the page, plus a light gradient.
        angle = rng.uniform(0, 2 * math.pi)
        d = (xx - cx) * math.cos(angle) + (yy - cy) * math.sin(angle)
        edge = rng.uniform(-0.2, 0.3) * max(w, h)
        soft = max(w, h) * rng.uniform(0.05, 0.2)
        shade = 1 - cam.shadow / (1 + np.exp(-(d - edge) / soft))
        gradient = 1 - 0.25 * cam.shadow * (xx / w)
        img *= (shade * gradient)[..., None]
    if cam.vignette:
        r = np.hypot((xx - cx) / w, (yy - cy) / h)
        img *= (1 - cam.vignette * r**2 * 2)[..., None]
    if cam.blur_px:
        img = cv2.GaussianBlur(img, (0, 0), cam.blur_px)
    if cam.noise:
        img += rng.normal(0, cam.noise, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8), matrix


def random_camera(rng, scan: bool) -> Camera:
    """A phone camera at a random angle and light, or a flatbed scanner (``scan``)."""
    if scan:
        return Camera(
            rotation_deg=rng.uniform(-1.5, 1.5),
            noise=rng.uniform(0, 3),
            jpeg_quality=int(rng.integers(80, 96)),
        )
    return Camera(
        tilt=rng.uniform(0.0, 0.06),
        rotation_deg=rng.uniform(-6, 6),
        shadow=rng.choice([0.0, rng.uniform(0.2, 0.55)], p=[0.4, 0.6]),
        vignette=rng.uniform(0, 0.25),
        blur_px=rng.choice([0.0, rng.uniform(0.5, 1.6)], p=[0.5, 0.5]),
        noise=rng.uniform(1, 6),
        jpeg_quality=int(rng.integers(55, 93)),
    )


def turn(photo: Image, angle_deg: float) -> Image:
    """A photo turned by ``angle_deg`` counter-clockwise: a phone held askew.

    The canvas grows to hold the whole photo; its border pixels are carried out to the new
    corners, as a photo taken askew shows more of the desk or page, not black.
    """
    h, w = photo.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    size = (round(w * cos + h * sin), round(w * sin + h * cos))
    matrix[:, 2] += ((size[0] - w) / 2, (size[1] - h) / 2)
    return cv2.warpAffine(photo, matrix, size, borderMode=cv2.BORDER_REPLICATE)


SIZES = [(640, 480), (1024, 768), (1280, 960), (1600, 1200), (2048, 1536)]


@dataclass
class Photo:
    """A rendered photo.

    Holds the BGR image, the expected strings top to bottom, the JPEG quality to save it at,
    and each handwritten digit's label and ink box in image pixels.
    """

    image: Image
    expected: list[str]
    jpeg_quality: int
    digits: list[tuple[int, BBox]]

    def as_saved(self) -> Image:
        """The image as it reads back after saving as JPEG at :attr:`jpeg_quality`."""
        _, data = cv2.imencode(".jpg", self.image, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
        return cv2.imdecode(data, cv2.IMREAD_COLOR)


def render(
    kind: str, rng, src, out_size, scan: bool | None = None, ink: Ink | None = None
) -> Photo:
    """Render one image of a scene (a key of :data:`SCENES` or :data:`MORE_SCENES`) in ``ink``."""
    if scan is None:
        scan = kind in ("form", "plain") and rng.random() < 0.5
    # A grid is half the time cut to its corners (as bench/real.py warps Sudoku photos): a
    # square page filling the frame, photographed head-on with the phone's light and blur.
    tight = kind == "grid" and rng.random() < 0.5
    if tight:
        out_size = (min(out_size),) * 2
    w, h = out_size
    page_size = (round(w * 1.0), round(h * 1.0))
    if kind == "cheque":
        page_size = (w, round(w * 0.45))
    more = {"tight": tight} if kind == "grid" else {}
    scene = {**SCENES, **MORE_SCENES}[kind](rng, src, page_size, ink=ink, **more)
    cam = random_camera(rng, scan)
    if tight:
        cam = replace(cam, tilt=0.0, rotation_deg=0.0)
    image, matrix = photograph(scene, out_size, cam, rng)
    boxes = []
    for label, corners in scene.digits:
        seen = cv2.perspectiveTransform(corners[None].astype(np.float64), matrix)[0]
        x0, y0 = np.clip(seen.min(axis=0), 0, [w, h]).astype(int)
        x1, y1 = np.clip(np.ceil(seen.max(axis=0)), 0, [w, h]).astype(int)
        if x1 > x0 and y1 > y0:
            boxes.append((label, BBox(int(x0), int(y0), int(x1 - x0), int(y1 - y0))))
    return Photo(image, scene.expected(), cam.jpeg_quality, boxes)


def generate(
    data: Path, out: Path, seed: int, split: str, count: int, big: int, ink: str | None = None
) -> list[Path]:
    """Write ``count`` photos (plus ``big`` at 12 MP) and their ``.gt.txt`` into ``out``.

    The kinds of scene take turns; digits come from MNIST's ``split`` in ``data``. ``ink``
    (a key of :data:`INKS` or :data:`OTHER_INKS`) writes every photo in that ink, the rest
    of each photo as it is without it, and names the files after it (``pencil-ruled-02.jpg``).
    """
    colour = None if ink is None else {**INKS, **OTHER_INKS}[ink]
    images, labels = load_mnist(data, split)
    rng = np.random.default_rng(seed)
    src = DigitSource(images, labels, rng)
    out.mkdir(parents=True, exist_ok=True)
    kinds = list(SCENES)
    written = []
    for i in range(count + big):
        kind = kinds[i % len(kinds)]
        size = (4000, 3000) if i >= count else SIZES[int(rng.integers(len(SIZES)))]
        if kind == "sticky" or (kind == "form" and rng.random() < 0.5):
            size = (size[1], size[0]) if rng.random() < 0.3 else size
        photo = render(kind, rng, src, size, ink=colour)
        path = out / f"{ink + '-' if ink else ''}{kind}-{i:02d}.jpg"
        cv2.imwrite(str(path), photo.image, [cv2.IMWRITE_JPEG_QUALITY, photo.jpeg_quality])
        path.with_suffix(".gt.txt").write_text("\n".join(photo.expected) + "\n")
        written.append(path)
    return written


def main() -> None:
    """``python -m digitscan.synth``: write sample photos."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1].strip())
    parser.add_argument("--data", type=Path, default=Path("../shared/data/mnist"))
    parser.add_argument("--out", type=Path, default=Path("samples"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--split", choices=["train", "test"], default="train")
    parser.add_argument("--count", type=int, default=36)
    parser.add_argument("--big", type=int, default=1, help="how many 12 MP photos to add")
    parser.add_argument(
        "--ink", choices=[*INKS, *OTHER_INKS], help="write every photo in this ink (pencil...)"
    )
    args = parser.parse_args()
    photos = generate(args.data, args.out, args.seed, args.split, args.count, args.big, args.ink)
    for path in photos:
        print(path)


if __name__ == "__main__":
    main()
