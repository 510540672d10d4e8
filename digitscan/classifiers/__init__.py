"""Digit classifiers: the NumPy convnet (default), the scikit-learn MLP, and their storage."""

from __future__ import annotations
