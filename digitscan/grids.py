"""Grids photographed at an angle: warp one square by its corners, and its digits by row.

A start on reading grids (a Sudoku, a table of boxes): given the grid's four corners, the
photo is warped so the grid fills a square with a margin round it, read like any image, and
each digit read is put in the row its box's centre falls in. Finding the corners and reading
cell by cell are not done here yet.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

from digitscan.types import Reading

#: The margin kept round a warped grid, as a share of its side: the grid's frame stays a line.
GRID_MARGIN = 0.03


def warp_grid(
    image: NDArray[np.uint8], corners: Sequence[Sequence[float]], margin: float = GRID_MARGIN
) -> NDArray[np.uint8]:
    """The grid warped to a square (its longest side in the photo) with ``margin`` round it.

    Args:
        image: BGR uint8 ``(H, W, 3)``.
        corners: The grid's corners in image pixels: top left, top right, bottom right,
            bottom left.
        margin: Share of the side kept round the grid.
    """
    src = np.float32(corners)
    side = round(max(float(np.linalg.norm(src[i] - src[(i + 1) % 4])) for i in range(4)))
    pad = margin * side
    dst = np.float32([[pad, pad], [pad + side, pad], [pad + side, pad + side], [pad, pad + side]])
    size = round(side + 2 * pad)
    matrix = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(
        image, matrix, (size, size), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE
    )


def digits_by_row(
    reading: Reading, size: int, rows: int = 9, margin: float = GRID_MARGIN
) -> list[str]:
    """The digits read in a warped grid (:func:`warp_grid`, ``size`` px square), row by row.

    Returns:
        One string per row: its digits left to right, empty cells left out.
    """
    side = size / (1 + 2 * margin)
    pad = margin * side
    found: list[list[tuple[float, str]]] = [[] for _ in range(rows)]
    for line in reading.lines:
        for digit in line.digits:
            x, y, w, h = digit.bbox
            row = int((y + h / 2 - pad) // (side / rows))
            if 0 <= row < rows:
                found[row].append((x + w / 2, str(digit.label)))
    return ["".join(label for _, label in sorted(row)) for row in found]
