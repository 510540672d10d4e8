"""Which of a page's strings are its reading: a trained scorer instead of height rules.

After classification a page's strings still hold things that are not its numbers: the
neighbouring rows' numbers cut by a register crop's edge, a year heading, printed words read
as digits, a page edge or a piece of a box read as a lone 1. Each string is described by what
the reader knows of it and of the page's other strings (:data:`FEATURES`: heights relative
to the others, confidence, how much "not a digit" is in it, how near the photo's border it
is, how many strings of its size the page holds, the page's size in string heights), and a
gradient-boosted tree ensemble (scikit-learn's ``HistGradientBoostingClassifier``) gives the
probability that it belongs to the reading. Strings under :data:`KEEP_ABOVE` are dropped.

The scorer ships in ``models/strings.json`` (card) and ``strings-<sha8>.npz``; it is
fitted by ``tools/fit_string_scorer.py`` on the register train split (a string belongs when
the crop's label is the strings read joined with some left out, in one way only) and on
rendered photos, the seeded scenes and filled grids (a string belongs when its digits are
written or printed digits).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digitscan.classifiers.base import not_digit_proba
from digitscan.classifiers.store import checked_weights, find_card, read_card
from digitscan.errors import ModelError
from digitscan.types import BBox, Digit

log = logging.getLogger(__name__)

#: What the scorer is told about each string (one column each, in this order).
FEATURES = (
    "digits",  # how many
    "height_to_main",  # median digit height / the tallest string of 2+ digits read surely
    "height_to_tallest",  # ... / the tallest string's
    "height_to_others",  # ... / the tallest other string's (1 if alone)
    "confidence_mean",
    "confidence_min",
    "not_digit_mean",  # the "not a digit" class's probability, mean over the digits
    "not_digit_max",
    "all_ones",  # every digit read as 1
    "border_gap",  # to the nearest side of the photo, in string heights
    "border_gap_y",  # to the top or bottom
    "border_gap_x",  # to the left or right
    "width_per_digit",  # the string's width / (height x digits)
    "strings",  # on the page
    "is_tallest",
    "share_alike",  # of the other strings, the share within 0.8-1.25 of its height
    "alike",  # how many
    "photo_height",  # the photo's height in string heights
    "photo_width",  # ... width
)
#: A string is kept when the scorer gives it at least this probability of belonging.
KEEP_ABOVE = 0.5
#: A string whose digits are read with a mean confidence of at least this is "sure": the
#: tallest sure string of two or more digits is the page's main one (``height_to_main``).
_SURE_MEAN = 0.7


def features(strings: Sequence[Sequence[Digit]], frame: tuple[int, int]) -> NDArray[np.float32]:
    """The :data:`FEATURES` of each string, float32 ``(len(strings), len(FEATURES))``.

    Args:
        strings: Each string's digits (boxes in the photo's pixels).
        frame: The photo's ``(width, height)``.
    """
    width, height = frame
    heights = np.array([np.median([d.bbox.h for d in s]) for s in strings], np.float64)
    means = [float(np.mean([d.confidence for d in s])) for s in strings]
    sure = [
        h for h, s, m in zip(heights, strings, means, strict=True) if len(s) > 1 and m >= _SURE_MEAN
    ]
    main, tallest = max(sure or heights.tolist()), heights.max()
    rows = []
    for i, string in enumerate(strings):
        h = heights[i]
        box = BBox.around(d.bbox for d in string)
        x0, y0, x1, y1 = box.x, box.y, box.x2, box.y2
        confidence = np.array([d.confidence for d in string])
        not_digit = not_digit_proba(np.stack([d.proba for d in string]))
        others = np.delete(heights, i)
        alike = int(((others > 0.8 * h) & (others < 1.25 * h)).sum())
        rows.append(
            [
                len(string),
                h / main,
                h / tallest,
                h / others.max() if others.size else 1.0,
                confidence.mean(),
                confidence.min(),
                not_digit.mean(),
                not_digit.max(),
                all(d.label == 1 for d in string),
                min(x0, y0, width - x1, height - y1) / h,
                min(y0, height - y1) / h,
                min(x0, width - x1) / h,
                (x1 - x0) / (h * len(string)),
                len(strings),
                h == tallest,
                alike / max(1, others.size),
                alike,
                height / h,
                width / h,
            ]
        )
    return np.asarray(rows, np.float32)


class StringScorer:
    """A fitted scorer: the probability that each of a page's strings belongs to its reading.

    The trees of a fitted scikit-learn ``HistGradientBoostingClassifier`` (binary), kept as
    plain arrays (:meth:`from_sklearn`, :meth:`to_arrays`) and walked with NumPy: reading
    needs neither scikit-learn (0.7 s to import) nor a pickle.
    """

    KIND = "string-scorer"

    def __init__(self, arrays: dict[str, NDArray[Any]], card: dict[str, Any] | None = None):
        self.feature = arrays["feature"].astype(np.int64)
        self.threshold = arrays["threshold"].astype(np.float64)
        self.left = arrays["left"].astype(np.int64)
        self.right = arrays["right"].astype(np.int64)
        self.value = arrays["value"].astype(np.float64)
        self.roots = arrays["roots"].astype(np.int64)
        self.baseline = float(arrays["baseline"])
        self.card = card or {}
        self.depth = int(arrays["depth"])

    @classmethod
    def from_sklearn(cls, model: Any) -> StringScorer:
        """The trees of a fitted binary ``HistGradientBoostingClassifier`` (numeric features)."""
        parts, roots, offset = [], [], 0
        for (tree,) in model._predictors:  # noqa: SLF001 (the fitted trees)
            nodes = tree.nodes
            roots.append(offset)
            parts.append(
                {
                    "feature": nodes["feature_idx"],
                    "threshold": nodes["num_threshold"],
                    # a leaf points at itself, so that walking on past it stays there
                    "left": np.where(nodes["is_leaf"], np.arange(len(nodes)), nodes["left"])
                    + offset,
                    "right": np.where(nodes["is_leaf"], np.arange(len(nodes)), nodes["right"])
                    + offset,
                    "value": nodes["value"],
                    "depth": nodes["depth"],
                }
            )
            offset += len(nodes)
        arrays = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        arrays["depth"] = np.array(arrays["depth"].max())
        arrays["roots"] = np.array(roots)
        arrays["baseline"] = np.array(float(np.ravel(model._baseline_prediction)[0]))  # noqa: SLF001
        return cls(arrays)

    def to_arrays(self) -> dict[str, NDArray[Any]]:
        """The arrays :meth:`__init__` takes (saved as ``.npz``)."""
        return {
            "feature": self.feature,
            "threshold": self.threshold,
            "left": self.left,
            "right": self.right,
            "value": self.value,
            "roots": self.roots,
            "baseline": np.array(self.baseline),
            "depth": np.array(self.depth),
        }

    def decision(self, x: NDArray[np.float32]) -> NDArray[np.float64]:
        """The log-odds of belonging for feature rows ``(N, len(FEATURES))``."""
        x = np.asarray(x, np.float64)
        node = np.broadcast_to(self.roots, (len(x), len(self.roots))).copy()
        rows = np.arange(len(x))[:, None]
        for _ in range(self.depth):
            left = x[rows, self.feature[node]] <= self.threshold[node]
            node = np.where(left, self.left[node], self.right[node])
        return self.baseline + self.value[node].sum(axis=1)

    def belong_proba(
        self, strings: Sequence[Sequence[Digit]], frame: tuple[int, int]
    ) -> NDArray[np.float32]:
        """float32 ``(len(strings),)``: each string's probability of belonging."""
        if not strings:
            return np.zeros(0, np.float32)
        return (1 / (1 + np.exp(-self.decision(features(strings, frame))))).astype(np.float32)


@functools.cache
def load_scorer(name_or_path: str | Path = "strings") -> StringScorer:
    """The shipped scorer (``models/strings.json``), or one at a card's path, checked.

    Raises:
        ModelError: The card or weights are missing, damaged, or of another kind.
    """
    card_path = find_card(name_or_path)
    card = read_card(card_path)
    if card["kind"] != StringScorer.KIND:
        raise ModelError(f"holds a {card['kind']} model, not a string scorer", path=card_path)
    weights = checked_weights(card_path, card)
    try:
        with np.load(weights, allow_pickle=False) as npz:
            scorer = StringScorer({k: npz[k] for k in npz.files}, card)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"not a readable string scorer ({exc})", path=weights) from None
    if scorer.feature.max() >= len(FEATURES):
        raise ModelError("scores features this digitscan does not give", path=weights)
    return scorer


# ------------------------------------------------------------------ labels for fitting

#: Strings a crop may hold for its subsets to be tried against its label (2^n subsets).
_MOST_STRINGS = 12
#: A read digit is a written one when their boxes overlap by this much of the smaller.
_WRITTEN_OVERLAP = 0.5


def labels_from_text(texts: Sequence[str], label: str) -> list[int] | None:
    """Which strings belong, given the image's whole reading (strings joined, top to bottom).

    1 for the strings that, joined in order with the others left out, give ``label``; None
    when no choice gives it or more than one does (nothing to learn from that image).
    """
    n = len(texts)
    if not n or n > _MOST_STRINGS:
        return None
    found = [
        mask
        for mask in range(1, 1 << n)
        if "".join(t for i, t in enumerate(texts) if mask >> i & 1) == label
    ]
    if len(found) != 1:
        return None
    return [found[0] >> i & 1 for i in range(n)]


def labels_from_boxes(strings: Sequence[Sequence[Digit]], written: Sequence[BBox]) -> list[int]:
    """Which strings belong, given the boxes of the digits really on the page (renders).

    A string belongs when at least half its digits overlap a written digit's box by at least
    :data:`_WRITTEN_OVERLAP` of the smaller box.
    """

    def written_digit(a: BBox) -> bool:
        return any(a.overlap(b) >= _WRITTEN_OVERLAP * max(1, min(a.area, b.area)) for b in written)

    return [int(np.mean([written_digit(d.bbox) for d in s]) >= 0.5) for s in strings]
