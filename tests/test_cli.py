from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import run_subprocess

from digitscan.errors import ExitCode
from digitscan.mnist import write_idx
from digitscan.training import code_commit


def assert_one_line_error(result, *fragments: str) -> None:
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("digitscan: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize("model", ["convnet", "mlp"])
def test_eval_prints_accuracy_and_confusion(run_cli, tiny_dir: Path, model: str) -> None:
    result = run_cli("eval", "--model", model, "--data", tiny_dir)
    assert result.exit_code == 0, result.stderr
    first = result.stdout.splitlines()[0]
    accuracy = float(first.split("accuracy ")[1].split()[0])
    assert accuracy >= 0.97
    lines = result.stdout.splitlines()
    # A row and a column per class seen: the digits, and "not a digit" if a digit was read so.
    classes = len(lines[3].split())
    assert "confusion" in lines[2] and classes in (10, 11) and len(lines) == 4 + classes
    assert all(len(row.split()) == 1 + classes for row in lines[4:])


def test_eval_on_photos_of_the_digits(run_cli, tiny_dir: Path) -> None:
    result = run_cli("eval", "--data", tiny_dir, "--photos", "5", "--json")
    assert result.exit_code == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["photos"] == 5 and figures["n"] > 20  # crops of the rendered digits
    assert figures["accuracy"] >= 0.85


def test_eval_json_and_error_mosaic(run_cli, tiny_dir: Path, tmp_path: Path) -> None:
    mosaic = tmp_path / "errors.png"
    result = run_cli("eval", "--model", "mlp", "--data", tiny_dir, "--json", "--errors", mosaic)
    assert result.exit_code == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["n"] == 200 and figures["model"] == "mlp"
    confusion = np.array(figures["confusion"])
    assert confusion.sum() == 200
    assert figures["accuracy"] == pytest.approx(np.trace(confusion) / 200)
    image = cv2.imread(str(mosaic))
    errors = 200 - np.trace(confusion)
    assert image is not None and image.shape[1] == 84 * max(1, min(20, errors))


def train_quick_mlp(run_cli, data: Path, out: Path, epochs: int, *extra: str):
    """``digitscan train`` of a small MLP on the tiny fixture (50 digits held out).

    No photos are rendered unless ``extra`` asks (a later ``--photos`` or ``--test-photos`` wins).
    """
    return run_cli(
        "train",
        "--model",
        "mlp",
        "--data",
        data,
        "--out",
        out,
        "--epochs",
        str(epochs),
        "--validation",
        "50",
        "--photos",
        "0",
        "--test-photos",
        "0",
        *extra,
    )


def test_train_then_eval_the_new_model(run_cli, tiny_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "trained"
    result = train_quick_mlp(
        run_cli, tiny_dir, out, 3, "--name", "quick", "--photos", "6", "--test-photos", "3"
    )
    assert result.exit_code == 0, result.stderr
    assert "test accuracy" in result.stdout and "photo-crop accuracy" in result.stdout
    card = json.loads((out / "quick.json").read_text())
    photos = card["training"]["photos"]
    assert photos["photos"] == 6 and 0.8 * photos["digits_rendered"] <= photos["crops_added"]
    history_n = 250 + photos["crops_added"]  # the tiny set's 300 digits minus 50 held out
    assert f"training on {history_n} digits" in result.stderr
    photo_test = card["metrics"]["photo_crops_test"]
    assert photo_test["photos"] == 3 and photo_test["n"] == sum(sum(photo_test["confusion"], []))
    assert card["training"]["command"].startswith("digitscan train --model mlp")
    assert card["training"]["code_commit"] == code_commit()  # None from an installed wheel
    assert card["training"]["epochs"] == 3 and len(card["training"]["history"]) == 3
    assert not card["data"]["train"][0]["official_mnist"]
    curve = cv2.imread(str(out / "quick-curve.png"))
    assert curve is not None and curve.shape[:2] == (420, 720)
    assert "epoch 3/3" in result.stderr  # progress lines on a non-terminal stderr
    again = run_cli("eval", "--model", out / "quick.json", "--data", tiny_dir, "--json")
    assert again.exit_code == 0
    assert json.loads(again.stdout)["accuracy"] == pytest.approx(
        card["metrics"]["mnist_test"]["accuracy"]
    )


def test_missing_data_folder(run_cli, tmp_path: Path) -> None:
    result = run_cli("eval", "--data", tmp_path / "nowhere")
    assert result.exit_code == ExitCode.input_file
    assert_one_line_error(result, "nowhere", "not a folder")


def test_corrupt_idx_file(run_cli, tiny_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    raw = (tiny_dir / "t10k-images-idx3-ubyte.gz").read_bytes()
    (data / "t10k-images-idx3-ubyte.gz").write_bytes(raw[: len(raw) // 3])
    write_idx(data / "t10k-labels-idx1-ubyte.gz", np.zeros(200, np.uint8))
    result = run_cli("eval", "--data", data)
    assert result.exit_code == ExitCode.input_file
    assert_one_line_error(result, "t10k-images-idx3-ubyte.gz", "gzip")


def test_missing_model(run_cli, tiny_dir: Path, tmp_path: Path) -> None:
    result = run_cli("eval", "--model", tmp_path / "none.json", "--data", tiny_dir)
    assert result.exit_code == ExitCode.model
    assert_one_line_error(result, "none.json")


def test_damaged_model(run_cli, tiny_dir: Path, tmp_path: Path) -> None:
    import shutil

    shipped = Path(__file__).resolve().parents[1] / "models"
    card = json.loads((shipped / "mlp.json").read_text())
    shutil.copy(shipped / "mlp.json", tmp_path)
    (tmp_path / card["weights"]).write_bytes(b"not the weights")
    result = run_cli("eval", "--model", tmp_path / "mlp.json", "--data", tiny_dir)
    assert result.exit_code == ExitCode.model
    assert_one_line_error(result, card["weights"], "sha256")


def test_debug_shows_the_traceback(run_cli, tmp_path: Path) -> None:
    from digitscan import DataError

    with pytest.raises(DataError):
        run_cli("--debug", "eval", "--data", tmp_path / "nowhere")


def test_unexpected_exception_is_one_line(run_cli, tiny_dir: Path, monkeypatch) -> None:
    import digitscan.training

    def boom(*args, **kwargs):
        raise RuntimeError("injected")

    monkeypatch.setattr(digitscan.training, "evaluate", boom)
    result = run_cli("eval", "--data", tiny_dir)
    assert result.exit_code == 1
    assert_one_line_error(result, "RuntimeError", "injected", "--debug")


def test_usage_errors_exit_2(run_cli) -> None:
    result = run_cli("eval")
    assert result.exit_code == ExitCode.bad_args and "--data" in result.stderr
    assert run_cli("train", "--model", "svm", "--data", ".", "--out", ".").exit_code == 2
    assert run_cli("nosuchcommand").exit_code == 2


def test_help_and_version(run_cli) -> None:
    result = run_cli("--help")
    assert result.exit_code == 0 and "train" in result.stdout and "eval" in result.stdout
    assert run_cli("-h").exit_code == 0
    assert run_cli("--version").stdout.strip().startswith("digitscan")


def test_python_dash_m_entry_point(tiny_dir: Path, tmp_path: Path) -> None:
    result = run_subprocess(
        "eval", "--model", "convnet", "--data", tiny_dir.resolve(), cwd=tmp_path
    )
    assert result.exit_code == 0, result.stderr
    assert "accuracy" in result.stdout
    bad = run_subprocess("eval", "--data", tmp_path / "missing", cwd=tmp_path)
    assert bad.exit_code == ExitCode.input_file and "Traceback" not in bad.stderr


# ------------------------------------------------------------------ read

RESOURCES = Path(__file__).parent / "resources"


@pytest.fixture
def page_files(render_page, tmp_path: Path) -> list[Path]:
    paths = []
    # (Seed 5 would write b.jpg's 3 like an S: both models read it as a 5.)
    for name, strings, seed in (("a.png", ["4096", "17"], 5), ("b.jpg", ["358"], 1)):
        image, _ = render_page(strings, seed=seed)
        cv2.imwrite(str(tmp_path / name), image)
        paths.append(tmp_path / name)
    return paths


def test_read_one_image_prints_its_strings(run_cli, page_files) -> None:
    result = run_cli("read", page_files[0])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "4096\n17\n"


def test_read_several_prints_path_tab_string(run_cli, page_files) -> None:
    result = run_cli("read", *page_files)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"{page_files[0]}\t4096",
        f"{page_files[0]}\t17",
        f"{page_files[1]}\t358",
    ]


def test_read_json(run_cli, page_files) -> None:
    result = run_cli("read", "--json", *page_files)
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["text"] for o in objects] == ["4096\n17", "358"]
    assert objects[0]["path"] == str(page_files[0]) and objects[0]["seconds"] > 0
    digit = objects[0]["lines"][0]["digits"][0]
    assert digit["label"] == "4" and len(digit["box"]) == 4


def test_read_blank_page_is_not_an_error(run_cli) -> None:
    result = run_cli("read", RESOURCES / "blank.png")
    assert result.exit_code == 0 and result.stdout == ""
    assert result.stderr == f"digitscan: {RESOURCES / 'blank.png'}: no digits found\n"
    assert run_cli("-q", "read", RESOURCES / "blank.png").stderr == ""


@pytest.mark.parametrize(
    "name", ["corrupt.jpg", "zero_bytes.jpg", "not_an_image.jpg", "missing.jpg"]
)
def test_read_bad_file_exit_3(run_cli, name: str) -> None:
    result = run_cli("read", RESOURCES / name)
    assert result.exit_code == ExitCode.input_file
    assert_one_line_error(result, name)


def test_read_one_bad_file_does_not_stop_the_others(run_cli, page_files) -> None:
    result = run_cli("read", page_files[0], RESOURCES / "corrupt.jpg", page_files[1])
    assert result.exit_code == ExitCode.some_inputs_failed
    assert f"{page_files[1]}\t358" in result.stdout.splitlines()
    assert_one_line_error(result, "corrupt.jpg")


def test_read_missing_model_exit_4(run_cli, page_files, tmp_path: Path) -> None:
    result = run_cli("read", "--model", tmp_path / "nope.json", page_files[0])
    assert result.exit_code == ExitCode.model and result.stdout == ""


def test_read_debug_dir(run_cli, page_files, tmp_path: Path) -> None:
    result = run_cli("read", "--debug-dir", tmp_path / "dbg", page_files[1])
    assert result.exit_code == 0
    assert (tmp_path / "dbg" / "b-overlay.png").is_file()


#: ScanConfig fields the CLI does not expose, each with the reason.
NOT_EXPOSED = {
    name: "a tuning constant of one stage; set it through digitscan.read(config=ScanConfig(...))"
    for name in (
        "min_side_px",
        "text_height_px",
        "page_text_ratio",
        "background_kernel_frac",
        "threshold_block_frac",
        "threshold_offset",
        "paper_min_brightness_frac",
        "deskew",
        "deskew_min_deg",
        "min_contrast",
        "line_min_length_frac",
        "line_max_thickness_px",
        "min_height_px",
        "max_height_frac",
        "min_ink_px",
        "max_aspect",
        "max_fill",
        "small_frac",
        "edge_margin_px",
        "edge_ink_frac",
        "edge_side_ratio",
        "merge_overlap",
        "merge_gap_frac",
        "split_min_aspect",
        "line_gap_frac",
        "line_join_max_height",
        "line_overlap",
        "sign_max_frac",
        "fragment_max_frac",
        "piece_merge_overlap",
        "edge_min_factor",
        "digit_max_aspect",
        "min_stroke_frac",
        "reject_currency_signs",
        "overrun_max_frac",
        "border_sign_frac",
        "stroke_width_frac",
        "stroke_variants",
        "faint_strokes",
        "faint_lines",
        "reject_confidence",
    )
}
#: ScanConfig fields and the CLI option that sets each.
EXPOSED = {
    "max_side_px": "--max-side",
    "min_confidence": "--min-confidence",
    "remove_lines": "--keep-lines",
}


def test_every_setting_is_an_option_or_listed_with_a_reason(run_cli) -> None:
    import dataclasses
    import inspect

    from digitscan import api
    from digitscan.config import ScanConfig

    fields = {f.name for f in dataclasses.fields(ScanConfig)}
    assert fields == set(NOT_EXPOSED) | set(EXPOSED)
    help_text = run_cli("read", "--help").stdout
    for option in EXPOSED.values():
        assert option in help_text
    api_options = set(inspect.signature(api.read).parameters) - {"source", "config"}
    assert api_options == {"model", "debug_dir"}
    assert "--model" in help_text and "--debug-dir" in help_text


def test_read_forwards_options_to_the_api(run_cli, page_files, monkeypatch) -> None:
    from digitscan import api

    calls = []
    real = api.read

    def recording(source, **kwargs):
        calls.append(kwargs)
        return real(source, **kwargs)

    monkeypatch.setattr(api, "read", recording)
    result = run_cli(
        "read", "--min-confidence", "0.4", "--max-side", "900", "--keep-lines", page_files[1]
    )
    assert result.exit_code == 0
    config = calls[0]["config"]
    assert (config.min_confidence, config.max_side_px, config.remove_lines) == (0.4, 900, False)


def test_train_shows_a_progress_bar_on_a_terminal(run_cli, tiny_dir, tmp_path, monkeypatch) -> None:
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    result = train_quick_mlp(run_cli, tiny_dir, tmp_path, 2)
    assert result.exit_code == 0
    assert "training" in result.stderr and "epoch 2/2" in result.stderr
    assert "2/2" in result.stderr  # the bar's position


def test_average_two_convnets_then_eval(
    run_cli, tiny_dir: Path, tmp_path: Path, tiny_train
) -> None:
    from digitscan.classifiers.convnet import ConvNetClassifier
    from digitscan.classifiers.store import load_model, save_model

    cards = []
    for seed in (1, 2):
        net = ConvNetClassifier(
            channels=(4,), kernels=(3,), hidden=8, epochs=1, augment=False, random_state=seed
        ).fit(*tiny_train)
        cards.append(save_model(net, tmp_path / f"net{seed}", "net", {"training": {"seed": seed}}))
    out = tmp_path / "pair"
    result = run_cli("average", *cards, "--data", tiny_dir, "--out", out, "--test-photos", "0")
    assert result.exit_code == 0, result.stderr
    card = json.loads((out / "convnet.json").read_text())
    assert card["kind"] == "averaged-convnets"
    assert [m["training"]["seed"] for m in card["training"]["members"]] == [1, 2]
    assert card["training"]["command"].startswith("digitscan average")
    assert card["training"]["code_commit"] == code_commit()
    again = run_cli("eval", "--model", out / "convnet.json", "--data", tiny_dir, "--json")
    assert json.loads(again.stdout)["accuracy"] == pytest.approx(
        card["metrics"]["mnist_test"]["accuracy"]
    )
    lone = run_cli("average", cards[0], "--data", tiny_dir, "--out", out)
    assert lone.exit_code != 0
    assert_one_line_error(lone, "two or more")
    mixed = run_cli("average", cards[0], "mlp", "--data", tiny_dir, "--out", out)
    assert mixed.exit_code != 0
    assert_one_line_error(mixed, "mlp", "only convnets")
    # An average grows by a network: the pair's members join the third, cards and all.
    third = ConvNetClassifier(
        channels=(4,), kernels=(3,), hidden=8, epochs=1, augment=False, random_state=3
    ).fit(*tiny_train)
    card3 = save_model(third, tmp_path / "net3", "net", {"training": {"seed": 3}})
    trio = tmp_path / "trio"
    grown = run_cli(
        "average",
        out / "convnet.json",
        card3,
        "--data",
        tiny_dir,
        "--out",
        trio,
        "--test-photos",
        "0",
    )
    assert grown.exit_code == 0, grown.stderr
    model = load_model(trio / "convnet.json")
    assert len(model.estimators_) == 3
    assert [m["training"]["seed"] for m in model.card_["training"]["members"]] == [1, 2, 3]
    # ... and a network can be left out of it (replaced by a better one).
    swapped = tmp_path / "swapped"
    args = ("average", trio / "convnet.json", "--data", tiny_dir, "--test-photos", "0")
    result = run_cli(*args, "--out", swapped, "--drop", "0")
    assert result.exit_code == 0, result.stderr
    kept = load_model(swapped / "convnet.json")
    assert [m["training"]["seed"] for m in kept.card_["training"]["members"]] == [2, 3]
    np.testing.assert_allclose(
        kept.predict_proba(tiny_train[0][:20]),
        (
            model.estimators_[1].predict_proba(tiny_train[0][:20])
            + model.estimators_[2].predict_proba(tiny_train[0][:20])
        )
        / 2,
        rtol=1e-5,
    )
    wrong = run_cli(*args, "--out", swapped, "--drop", "3")
    assert wrong.exit_code != 0
    assert_one_line_error(wrong, "no network 3 to drop", "3 networks (0 to 2)")
    alone = run_cli(*args, "--out", swapped, "--drop", "0", "--drop", "1")
    assert_one_line_error(alone, "two or more")
    X = tiny_train[0][:20]
    mean = sum(net.predict_proba(X) for net in model.estimators_) / 3
    np.testing.assert_allclose(model.predict_proba(X), mean, rtol=1e-6)
