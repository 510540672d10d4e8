"""Every setting of the reading pipeline, in one frozen dataclass.

Stage functions take a :class:`ScanConfig` and read their settings from it; no stage has a
magic number of its own. Sizes in pixels are at *working resolution* (the image scaled so its
longest side is at most ``max_side_px``), or are fractions of a measured size where the name
says so (``_frac``). Changing a field changes :meth:`ScanConfig.key`, which names cached
results (so batch ``--resume`` redoes files read with other settings).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields

from digitscan.errors import ConfigError


@dataclass(frozen=True, slots=True)
class ScanConfig:
    """Settings of :func:`digitscan.read`; the defaults suit phone photos and 150-600 dpi scans."""

    # --- load
    max_side_px: int = 1600
    """Working resolution: larger images are shrunk to this longest side (speed; 12 MP photos
    have far more pixels than digits need). Boxes are still reported in original pixels."""

    min_side_px: int = 1200
    """Smaller images are enlarged to this longest side (at most ``max_side_px``): at 640x480
    printed lines are one pixel wide and digits barely 20 px tall, too fine for the
    morphology to tell apart ..."""

    text_height_px: int = 75
    """... but only until their handwriting, measured on the image's ink blobs, is this tall
    (the median digit of the rendered photos at working resolution is 74 px; 0: off). A tight
    crop of a field is not enlarged to a page's size."""

    page_text_ratio: float = 16.0
    """A page's longest side holds about this many text heights (the rendered photos: 1,200
    working px, digits 74 px). The page stages of an image smaller than a page holding its
    text measure their sizes by that page, not by the image."""

    # --- illumination and threshold
    background_kernel_frac: float = 0.1
    """Size of the closing that estimates the paper's brightness, as a fraction of the longest
    side: wider than any pen stroke or filled loop (a felt-pen 8 on a sticky note), narrower
    than a shadow's soft edge."""
    threshold_block_frac: float = 0.025
    """Adaptive threshold neighbourhood, as a fraction of the longest side (odd px, >= 15)."""
    threshold_offset: float = 12.0
    """How much darker than its neighbourhood (grey levels, 0-255 after flattening) a pixel
    must be to count as ink; lower finds fainter pencil, higher ignores paper texture."""
    paper_min_brightness_frac: float = 0.5
    """Regions whose paper brightness is below this fraction of the brightest paper are the
    desk or frame around the page, not paper: no ink is looked for there."""
    deskew: bool = True
    """Level the page by its long straight lines (ruling, boxes) before removing them."""
    deskew_min_deg: float = 0.3
    """Smaller measured skews are left alone (rotating costs time and blurs nothing useful)."""
    min_contrast: float = 40.0
    """Ink must also be this much darker than the paper (after flattening): adaptive
    thresholds alone turn noise on blank paper into ink."""

    # --- ruled lines, grids and boxes
    remove_lines: bool = True
    """Remove long straight horizontal and vertical lines (ruling, grids, comb boxes)."""
    line_min_length_frac: float = 0.06
    """A horizontal straight run of ink at least this long (fraction of the longest side of
    the page the stages measure by: for a crop smaller than a page, the page holding its
    text) is a line; vertical runs must be 2.5 times longer, or join horizontal lines at
    both ends."""
    line_max_thickness_px: int = 6
    """Thicker straight runs are not lines but strokes (e.g. a felt-pen 1)."""
    faint_lines: bool = True
    """On pages whose lines are as dark as the ink, also find the faint printed lines the
    threshold broke into dashes, by their unbroken darkness (a pale form's comb boxes), and
    remove their light pixels (:func:`digitscan.preprocess.faint_lines`)."""

    # --- candidates
    min_height_px: int = 12
    """Blobs shorter than this at working resolution are specks, dots or commas."""
    max_height_frac: float = 0.5
    """Blobs taller than this fraction of the page height are not digits (edges, folds)."""
    min_ink_px: int = 30
    """Blobs with less ink than this are noise."""
    max_aspect: float = 5.0
    """Blobs wider than ``max_aspect`` x their height are dashes or underlines."""
    max_fill: float = 0.9
    """Blobs filling more than this of their box are solid marks (ink blots, photo edges)."""
    small_frac: float = 0.45
    """In a line, blobs shorter than this fraction of the line's median digit height are
    punctuation (decimal points, commas), not digits."""

    edge_margin_px: float = 10.0
    """Ink this close to the paper's edge or the image border is suspect: edge slivers."""
    edge_ink_frac: float = 0.5
    """Blobs with more of their ink than this near an edge are edge slivers, not digits."""
    edge_side_ratio: float = 0.8
    """A blob with much of the paper round it darker than this fraction of the rest is an edge
    between the page and the desk (a side or a corner), not a pen stroke."""

    # --- merging and splitting
    merge_overlap: float = 0.6
    """Two blobs whose horizontal extents overlap by this fraction of the narrower one, one
    above the other, are one broken digit (a 5's detached bar)."""
    piece_merge_overlap: float = 0.2
    """... this fraction, if one is under 0.7 times the other's height: a piece broken off a
    digit, such as a 6's loop, may hang well to one side of the rest."""
    merge_gap_frac: float = 0.35
    """Pieces merge only if the vertical gap between them is under this fraction of the taller
    one."""
    split_min_aspect: float = 0.85
    """Blobs wider than this x their height may be touching digits and are tried split."""

    # --- lines
    line_gap_frac: float = 1.6
    """Digits farther apart than this x the digit height start a new string."""
    line_join_max_height: float = 1.8
    """A blob this many times taller than a string does not join it."""
    line_overlap: float = 0.4
    """Digits whose vertical extents overlap by this fraction of the shorter belong together."""

    sign_max_frac: float = 0.7
    """A string's first character read as 5 or 8 and shorter than this fraction of the rest's
    median height, and set apart from them, is a printed "$" (not separated from the amount
    by a faint box border)."""
    fragment_max_frac: float = 0.6
    """A string's first or last character read as 1 and shorter than this fraction of the
    rest's median height is a piece of a box's side; so is a lone 1 this much shorter than
    the page's main string. Inside a string, such a 1 is a long comma or a stroke's sliver."""
    edge_min_factor: float = 1.6
    """... and one taller than this many times the rest's median height is a page's edge or a
    fold joined to the string."""
    digit_max_aspect: float = 2.0
    """A final digit (after splitting) wider than this many times its height is a leftover
    line or a scribble, not a digit."""
    min_stroke_frac: float = 0.06
    """Blobs whose pen width is below this fraction of their height are straight hairlines
    (page edges, ruling fragments), not 1s: even thin pens write wider strokes."""

    reject_currency_signs: bool = True
    """A string's first character read as a 5 or 8 but shaped like "$" is left out."""
    overrun_max_frac: float = 0.4
    """Digits that stand past a string's last box border, the first closer to it than this
    fraction of its height, are part of the amount that ran over the box's side (not a field
    of their own)."""
    border_sign_frac: float = 0.8
    """A lone blob cut off from a string by a box border, smaller than this fraction of the
    string's digits, is a printed sign (a cheque's "$"), not a digit."""

    # --- classification
    stroke_width_frac: float = 0.13
    """Target pen width as a fraction of the digit's height, as MNIST's strokes are; crops
    are thickened or thinned towards it before normalising."""
    stroke_variants: bool = True
    """Also classify each digit a pixel thicker and thinner and average (+4 images of 108 on
    unseen photos, for ~10 ms per photo)."""
    faint_strokes: bool = True
    """Also classify each digit read less surely than 0.99 with the strokes a lenient
    threshold round it adds (the hollow middle of a felt-pen stroke, a faint bar or loop)
    and average the two readings (:mod:`digitscan.faint`)."""
    min_confidence: float = 0.0
    """Digits with a lower probability are dropped from the text."""
    reject_confidence: float = 0.35
    """Blobs the classifier is less sure of than this are not digits (letters, signs); only
    for a classifier without a "not a digit" class, which says so itself."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool):
                continue
            if isinstance(value, int | float) and value < 0:
                raise ConfigError(f"ScanConfig.{f.name} must be >= 0, got {value}")
        if self.max_side_px < 200:
            raise ConfigError(f"ScanConfig.max_side_px must be >= 200, got {self.max_side_px}")
        for name in ("min_confidence", "reject_confidence", "max_fill"):
            if not 0 <= getattr(self, name) <= 1:
                raise ConfigError(f"ScanConfig.{name} must be in [0, 1]")

    def key(self) -> str:
        """A short hash of every setting (names cached results)."""
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]
