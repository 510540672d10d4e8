"""Every shipped sample photo is read and compared with its expected reading (NAME.gt.txt).

Samples the pipeline does not read right yet are listed in KNOWN_MISSES with what goes wrong;
they run as strict xfails, so fixing one fails the suite until it is taken off the list.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import digitscan

SAMPLES = Path(__file__).resolve().parents[1] / "samples"

KNOWN_MISSES: dict[str, str] = {}


def expected(image: Path) -> str:
    lines = image.with_suffix(".gt.txt").read_text().splitlines()
    return "\n".join(line.strip() for line in lines if line.strip())


def sample_params() -> list:
    params = []
    for image in sorted(SAMPLES.glob("*.jpg")):
        marks = []
        if image.name in KNOWN_MISSES:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[image.name]))
        params.append(pytest.param(image, id=image.name, marks=marks))
    return params


def test_there_are_samples() -> None:
    images = sorted(SAMPLES.glob("*.jpg"))
    assert len(images) >= 30
    assert all(image.with_suffix(".gt.txt").is_file() for image in images)
    assert set(KNOWN_MISSES) <= {image.name for image in images}


@pytest.mark.parametrize("image", sample_params())
def test_sample_reads_as_expected(image: Path) -> None:
    assert digitscan.read(image).text == expected(image)
