"""The ``digitscan`` command: parse arguments, call the library, format the results.

This is the only module that prints or decides exit codes. Each command turns its options into
library calls and formats what comes back; training code is imported inside the commands that
need it, so ``digitscan --help`` stays fast. Every failure becomes one line on stderr,
``digitscan: error: FILE: reason``, with the exit code of :class:`digitscan.errors.ExitCode`;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

import click

from digitscan.errors import DigitscanError, ExitCode

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "show_default": True}
MODEL_HELP = "Model: 'convnet', 'mlp', or the path of a model card or weights file."


@click.group(context_settings=CONTEXT_SETTINGS)
@click.option("-v", "--verbose", count=True, help="More log output (repeat for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors on stderr.")
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
@click.version_option(package_name="digitscan")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool, debug: bool) -> None:
    """Read handwritten digits from phone photos and scans."""
    from digitscan._logging import configure_cli_logging

    ctx.ensure_object(dict)["debug"] = debug
    configure_cli_logging(-1 if quiet else verbose)


def scan_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that set how an image is read, shared by ``read`` and ``batch``."""
    options = [
        click.option("--model", "model_name", default="convnet", help=MODEL_HELP),
        click.option(
            "--min-confidence",
            type=click.FloatRange(0, 1),
            default=0.0,
            help="Leave out digits the classifier is less sure of.",
        ),
        click.option(
            "--max-side",
            type=click.IntRange(min=200),
            default=1600,
            help="Working resolution: longest side in pixels (boxes stay in original pixels).",
        ),
        click.option(
            "--keep-lines",
            is_flag=True,
            help="Do not remove ruled lines, grids and boxes before finding digits.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _scan_config(min_confidence: float, max_side: int, keep_lines: bool) -> Any:
    from digitscan.config import ScanConfig

    return ScanConfig(
        min_confidence=min_confidence, max_side_px=max_side, remove_lines=not keep_lines
    )


@cli.command()
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=Path))
@scan_options
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="One JSON object per image per line (strings, boxes, confidences).",
)
@click.option(
    "--debug-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write an overlay and the intermediate stages of each image here.",
)
def read(
    images: tuple[Path, ...],
    model_name: str,
    min_confidence: float,
    max_side: int,
    keep_lines: bool,
    as_json: bool,
    debug_dir: Path | None,
) -> None:
    """Read the handwritten digit strings in IMAGES, one string per line, top to bottom."""
    from digitscan import api

    config = _scan_config(min_confidence, max_side, keep_lines)
    model = api.get_model(model_name)  # a model error stops everything, before any image
    failures: list[DigitscanError] = []
    for path in images:
        try:
            reading = api.read(path, config=config, model=model, debug_dir=debug_dir)
        except DigitscanError as exc:
            failures.append(exc)
            click.echo(f"digitscan: error: {exc}", err=True)
            if as_json:
                click.echo(json.dumps({"path": str(path), "error": exc.message}))
            continue
        if not reading.lines:
            logging.getLogger("digitscan.cli").info("%s: no digits found", path)
        if as_json:
            click.echo(json.dumps(reading.to_dict()))  # the config already dropped unsure digits
        elif len(images) == 1:
            for line in reading.lines:
                click.echo(line.text)
        else:
            for line in reading.lines or [None]:
                click.echo(f"{path}\t{'' if line is None else line.text}")
    if failures:
        code = failures[0].exit_code if len(images) == 1 else ExitCode.some_inputs_failed
        raise SystemExit(int(code))


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The results table: .csv or .jsonl (one row per image, written as each finishes).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl"]),
    default=None,
    help="Table format [default: from the --output suffix].",
)
@click.option("-r", "--recursive", is_flag=True, help="Also read the images in sub-folders.")
@click.option(
    "--glob",
    "pattern",
    default=None,
    help="Only files matching this pattern (e.g. '*.png', '2024-*/*.jpg') "
    "[default: any image suffix].",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes [default: one per core].",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue the table: skip files already in it (same size, mtime and settings).",
)
@click.option(
    "--retry-failed",
    is_flag=True,
    help="With --resume, also read again the files whose rows are errors.",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing table.")
@click.option(
    "--scheduler",
    default=None,
    metavar="tcp://HOST:8786",
    help="Run on a Dask cluster (pip install 'digitscan[cluster]'); workers need the same paths.",
)
@scan_options
def batch(
    folder: Path,
    output: Path,
    fmt: str | None,
    recursive: bool,
    pattern: str | None,
    jobs: int | None,
    resume: bool,
    retry_failed: bool,
    overwrite: bool,
    scheduler: str | None,
    model_name: str,
    min_confidence: float,
    max_side: int,
    keep_lines: bool,
) -> None:
    """Read every image in FOLDER into one results table; resumable, in parallel."""
    from digitscan.batch import run_batch

    with _FileProgress() as progress:
        summary = run_batch(
            folder,
            output,
            fmt=fmt,
            recursive=recursive,
            pattern=pattern,
            resume=resume,
            overwrite=overwrite,
            retry_failed=retry_failed,
            jobs=jobs,
            config=_scan_config(min_confidence, max_side, keep_lines),
            model=model_name,
            scheduler=scheduler,
            on_start=progress.begin,
            on_result=progress.update,
        )
    click.echo(f"digitscan: {output}: {summary}", err=True)
    raise SystemExit(int(summary.exit_code))


@cli.command()
@click.option(
    "--source",
    default="0",
    help="Camera index, video file, or stream URL (rtsp://, http://...).",
)
@click.option(
    "--no-window",
    is_flag=True,
    help="No window: print a JSON line each time the stable reading changes.",
)
@click.option(
    "--stable-frames",
    type=click.IntRange(min=1),
    default=3,
    help="Show a reading once it has been the same in this many frames in a row.",
)
@click.option("--model", "model_name", default="convnet", help=MODEL_HELP)
@click.option(
    "--max-side",
    type=click.IntRange(min=200),
    default=640,
    help="Working resolution of the frames (higher reads smaller digits, slower).",
)
@click.option(
    "--save-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    help="Where the s key saves the frame (PNG) and its reading (JSON).",
)
def webcam(
    source: str,
    no_window: bool,
    stable_frames: int,
    model_name: str,
    max_side: int,
    save_dir: Path,
) -> None:
    """Read digits live from a camera, a video file or a stream."""
    from dataclasses import replace

    from digitscan import webcam as live

    config = replace(live.LIVE_CONFIG, max_side_px=max_side, min_side_px=max_side)
    opened = live.open_source(source)
    try:
        if no_window:

            def on_frame(result: live.FrameResult) -> None:
                if result.changed:
                    record = {"frame": result.index, "time": round(result.time_s, 3)}
                    click.echo(json.dumps({**record, "text": result.stable}))
                    sys.stdout.flush()  # a program reading the pipe sees each change at once

            live.watch(
                opened, on_frame, config=config, model=model_name, stable_frames=stable_frames
            )
        else:
            from digitscan.window import run_webcam

            for path in run_webcam(
                opened,
                config=config,
                model=model_name,
                stable_frames=stable_frames,
                save_dir=save_dir,
            ):
                click.echo(f"saved {path}", err=True)
    finally:
        opened.close()


@cli.command()
@click.option("--model", "model_name", default="convnet", help=MODEL_HELP)
def draw(model_name: str) -> None:
    """Draw digits with the mouse and see them read as you draw (c clears, q quits).

    The last reading is printed when the window closes.
    """
    from digitscan import api
    from digitscan.draw import DrawingPad
    from digitscan.window import run_pad

    api.get_model(model_name)  # a bad model fails before the window opens
    reading = run_pad(DrawingPad(model=model_name))
    for line in reading.lines:
        click.echo(line.text)


def _folder_option(flag: str, name: str, help_text: str) -> Callable[..., Any]:
    """A required option naming a folder, passed to the command as ``name``."""
    folder = click.Path(file_okay=False, path_type=Path)
    return click.option(flag, name, required=True, type=folder, help=help_text)


def data_option(help_text: str) -> Callable[..., Any]:
    """``--data DIR``: the folder of MNIST IDX files (``train``, ``average``, ``eval``)."""
    return _folder_option("--data", "data_dir", help_text)


def out_dir_option(help_text: str) -> Callable[..., Any]:
    """``--out DIR``: where a command that writes a model puts it."""
    return _folder_option("--out", "out_dir", help_text)


def model_out_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--out DIR`` and ``--test-photos N``, shared by the commands that write a model."""
    options = [
        out_dir_option("Folder to write NAME.json and the weights (and a training curve) into."),
        click.option(
            "--test-photos",
            type=click.IntRange(min=0),
            default=500,
            show_default=True,
            help="Photos rendered from the test digits to measure the model on (0: none).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _echo_photo_test(photo_test: dict[str, Any] | None) -> None:
    if photo_test is not None:
        click.echo(
            f"photo-crop accuracy {photo_test['accuracy']:.4f} on "
            f"{photo_test['n']} digits of {photo_test['photos']} test photos"
        )


@cli.command()
@click.option(
    "--model",
    "kind",
    type=click.Choice(["convnet", "mlp"]),
    default="convnet",
    help="Which classifier to train.",
)
@data_option("Folder with the four MNIST IDX files (.gz or raw).")
@model_out_options
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=None,
    help="Passes over the data [default: 30 convnet, 40 mlp].",
)
@click.option("--seed", type=int, default=0, help="Seed of all randomness.")
@click.option(
    "--validation",
    type=click.IntRange(min=0),
    default=5000,
    help="Training digits held out to measure after each epoch.",
)
@click.option("--name", default=None, help="Model name [default: the --model kind].")
@click.option(
    "--photos",
    type=click.IntRange(min=0),
    default=None,
    help="Photos rendered from the training digits whose pipeline crops join the training "
    "set [default: 4000].",
)
@click.option(
    "--download",
    is_flag=True,
    help="First download MNIST into --data (needs internet; checksums verified).",
)
def train(
    kind: str,
    data_dir: Path,
    out_dir: Path,
    epochs: int | None,
    seed: int,
    validation: int,
    name: str | None,
    photos: int | None,
    test_photos: int,
    download: bool,
) -> None:
    """Train a classifier on MNIST and photo crops and write it with its model card."""
    from digitscan import training
    from digitscan.mnist import download_mnist

    if download:
        download_mnist(data_dir)
    with _EpochProgress(epochs or training.DEFAULT_EPOCHS[kind]) as progress:
        result = training.train(
            kind,
            data_dir,
            out_dir,
            epochs=epochs,
            seed=seed,
            validation=validation,
            name=name,
            photos=photos,
            test_photos=test_photos,
            command=_command_line(),
            on_epoch=progress.update,
            on_stage=progress.stage,
        )
    click.echo(
        f"test accuracy {result.test.accuracy:.4f} on {result.test.n} digits "
        f"({result.seconds:.0f} s training)"
    )
    _echo_photo_test(result.photo_test)
    click.echo(f"wrote {result.card_path} and {result.curve_path}")


@cli.command()
@click.argument("members", nargs=-1, required=True)
@data_option("Folder with the four MNIST IDX files (the test split is measured).")
@model_out_options
@click.option("--name", default="convnet", show_default=True, help="Model name.")
@click.option("--seed", type=int, default=2, show_default=True, help="Seed of those photos.")
@click.option(
    "--drop",
    type=click.IntRange(min=0),
    multiple=True,
    help="Leave out the network at this position (0: the first, counting an average's own "
    "members in order); repeatable.",
)
def average(
    members: tuple[str, ...],
    data_dir: Path,
    out_dir: Path,
    name: str,
    test_photos: int,
    seed: int,
    drop: tuple[int, ...],
) -> None:
    """Average trained convnets (MEMBERS: cards or folders) into one model with its card."""
    from digitscan import training

    result = training.average(
        list(members),
        data_dir,
        out_dir,
        name=name,
        test_photos=test_photos,
        seed=seed,
        drop=drop,
        command=_command_line(),
        on_stage=lambda text: click.echo(text, err=True),
    )
    click.echo(f"test accuracy {result.test.accuracy:.4f} on {result.test.n} digits")
    _echo_photo_test(result.photo_test)
    click.echo(f"wrote {result.card_path}")


@cli.command()
@click.argument("base")
@data_option("Folder with the four MNIST IDX files.")
@out_dir_option("Folder to write NAME.json and the weights into.")
@click.option(
    "--pen-digits",
    type=click.Path(dir_okay=False, path_type=Path),
    help="digits.npz of real pen digits (16x16 scans).",
)
@click.option(
    "--crops",
    type=click.Path(dir_okay=False, path_type=Path),
    multiple=True,
    help="An .npz of crops harvested from real scans (tools/harvest_registers.py); repeatable.",
)
@click.option(
    "--rejects",
    type=click.IntRange(min=0),
    default=30_000,
    show_default=True,
    help="'Not a digit' images to render (printed letters, pieces, lines, texture).",
)
@click.option("--epochs", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of all randomness.")
@click.option("--name", default="convnet", show_default=True, help="Model name.")
def teach(
    base: str,
    data_dir: Path,
    out_dir: Path,
    pen_digits: Path | None,
    crops: tuple[Path, ...],
    rejects: int,
    epochs: int,
    seed: int,
    name: str,
) -> None:
    """Train a fitted convnet (BASE) on with real handwriting and a "not a digit" class."""
    from digitscan import training

    real = training.RealData(pen_digits=pen_digits, crops=crops, rejects=rejects)
    with _EpochProgress(epochs) as progress:
        result = training.teach_real(
            base,
            data_dir,
            real,
            out_dir,
            epochs=epochs,
            seed=seed,
            name=name,
            command=_command_line(),
            on_epoch=progress.update,
            on_stage=progress.stage,
        )
    click.echo(f"test accuracy {result.test.accuracy:.4f} on {result.test.n} digits")
    click.echo(f"wrote {result.card_path}")


@cli.command("eval")
@click.option("--model", "model_name", default="convnet", help=MODEL_HELP)
@data_option("Folder with MNIST-format IDX files.")
@click.option(
    "--split",
    type=click.Choice(["test", "train"]),
    default="test",
    help="Which files of the folder to measure on.",
)
@click.option(
    "--photos",
    type=click.IntRange(min=0),
    default=0,
    help="Measure on the pipeline's crops of this many photos rendered from the digits, "
    "not on the digits themselves.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the photos.")
@click.option(
    "--errors",
    "errors_png",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a mosaic of the misclassified digits to this PNG.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
def evaluate(
    model_name: str,
    data_dir: Path,
    split: str,
    photos: int,
    seed: int,
    errors_png: Path | None,
    as_json: bool,
) -> None:
    """Measure a classifier's accuracy on MNIST-format data or on photos of it."""
    import cv2

    from digitscan import load_model, training
    from digitscan.mnist import load_mnist
    from digitscan.photocrops import photo_crops

    model = load_model(model_name)
    images, labels = load_mnist(data_dir, split)  # type: ignore[arg-type]
    if photos:
        crops = photo_crops(images, labels, photos, seed=seed, jobs=-1)
        images, labels = crops.images, crops.labels
    report, predicted = training.evaluate(model, images, labels)
    if errors_png is not None and not cv2.imwrite(
        str(errors_png), training.error_mosaic(images, labels, predicted)
    ):
        raise DigitscanError("cannot write the error mosaic (PNG)", path=errors_png)
    card = getattr(model, "card_", {})
    if as_json:
        click.echo(
            json.dumps(
                {
                    "model": card.get("name", model_name),
                    "weights": card.get("weights"),
                    "data": str(data_dir),
                    "split": split,
                    "photos": photos,
                    **report.to_dict(),
                }
            )
        )
        return
    click.echo(_format_report(card.get("name", model_name), report))


def _format_report(model_name: str, report: Any) -> str:
    lines = [
        f"model {model_name}: accuracy {report.accuracy:.4f} "
        f"({round(report.accuracy * report.n)}/{report.n}), "
        f"{report.n / max(report.seconds, 1e-9):,.0f} digits/s",
        "per class: "
        + "  ".join(
            f"{digit}:{'  -  ' if acc != acc else f'{acc:.3f}'}"
            for digit, acc in enumerate(report.per_class)
        ),
        "confusion (rows true, columns predicted):",
        "      " + "".join(f"{d:>6}" for d in range(len(report.confusion))),
    ]
    lines += [f"{t:>6}" + "".join(f"{c:>6}" for c in row) for t, row in enumerate(report.confusion)]
    return "\n".join(lines)


class _TerminalBar:
    """A click progress bar on stderr, shown only when stderr is a terminal."""

    def __init__(self) -> None:
        self.bar: Any = None

    def start(self, total: int, label: str) -> None:
        if sys.stderr.isatty() and total:
            self.bar = click.progressbar(
                length=total, label=label, file=sys.stderr, show_eta=True, show_pos=True
            )
            self.bar.__enter__()

    def advance(self, label: str) -> None:
        if self.bar is not None:
            self.bar.label = label
            self.bar.update(1)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


class _EpochProgress(_TerminalBar):
    """Epochs on the terminal bar; a log line per epoch when there is no terminal."""

    def __init__(self, epochs: int) -> None:
        super().__init__()
        self.start(epochs, "training")

    def stage(self, text: str) -> None:
        if self.bar is not None:
            self.bar.label = text
            self.bar.render_progress()
        else:
            logging.getLogger("digitscan.cli").info("%s", text)

    def update(self, report: Any) -> None:
        val = "-" if report.val_accuracy is None else f"{report.val_accuracy:.4f}"
        text = f"epoch {report.epoch}/{report.epochs} loss {report.loss:.4f} val {val}"
        if self.bar is not None:
            self.advance(text)
        else:
            logging.getLogger("digitscan.cli").info("%s (%.0f s)", text, report.seconds)


class _FileProgress(_TerminalBar):
    """Files done, rate and ETA on the terminal bar; nothing when there is no terminal."""

    def __init__(self) -> None:
        super().__init__()
        self.begun = 0.0
        self.done = 0

    def begin(self, total: int) -> None:
        self.begun = time.perf_counter()
        self.start(total, "reading")

    def update(self, result: Any) -> None:
        self.done += 1
        rate = self.done / max(time.perf_counter() - self.begun, 1e-9)
        self.advance(f"reading ({rate:.1f} files/s)")


def _command_line() -> str:
    """The command as typed (recorded in model cards)."""
    argv = click.get_current_context().find_root().obj.get("argv", sys.argv[1:])
    return " ".join(["digitscan", *argv])


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; the one place where exceptions become messages and exit codes."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        code = cli.main(
            args=args, prog_name="digitscan", standalone_mode=False, obj={"argv": list(args)}
        )
    except click.exceptions.Abort:
        click.echo("digitscan: interrupted", err=True)
        sys.exit(ExitCode.ctrl_c)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("digitscan: interrupted", err=True)
        sys.exit(ExitCode.ctrl_c)
    except DigitscanError as exc:
        if debug:
            raise
        click.echo(f"digitscan: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 (the top-level handler: one line, never a traceback)
        if debug:
            raise
        click.echo(
            f"digitscan: error: internal error ({type(exc).__name__}: {exc}); "
            "rerun with --debug for the traceback",
            err=True,
        )
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else ExitCode.ok)
