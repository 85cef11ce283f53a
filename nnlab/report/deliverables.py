"""Answers in the shape a seed asks for, composed from what runs saved; nothing is retrained.

Each composer takes the question's deliverable spec (from the assignment data file) and the
runs that answer it, and returns the figures it could build plus notes on what it could not.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from nnlab.report.content import Figure, png_figure
from nnlab.report.plots import draw_series, pyplot, read_pixels, show, strip, tile_rows, to_png
from nnlab.runs.series import curves
from nnlab.runs.store import ARTIFACTS_DIR, Run

Composed = tuple[list[Figure], list[str]]


def _artifact(run: Run, name: str) -> Figure | None:
    return png_figure(run.path / ARTIFACTS_DIR / name, name, name)


def _label(spec: dict, run: Run) -> str:
    key = spec.get("key", "")
    value = run.config.get(key) if isinstance(run.config, dict) else None
    labels = spec.get("labels") or {}
    text = labels.get(str(value).lower() if isinstance(value, bool) else str(value))
    return text or f"{spec.get('label', key)} = {value}"


def _grid(run: Run, name: str, rows_needed: int) -> list[list[Any]] | None:
    figure = _artifact(run, name)
    if figure is None:
        return None
    rows = tile_rows(read_pixels(figure.png))
    return rows if len(rows) >= rows_needed else None


def _figure(qid: str, slug: str, caption: str, fig) -> Figure:
    return Figure(f"{qid}_{slug}.png".replace(" ", "_"), caption, to_png(fig))


def _training_loss(run: Run) -> tuple[str, list, list] | None:
    """(x label, xs, ys) of the training loss: per epoch, or per step when there are under 3 epochs."""
    rows = run.metrics()
    per_epoch = curves(rows, "loss").get("train")
    per_step = curves(rows, "step_loss", by="step").get("train")
    if per_step and (per_epoch is None or len(per_epoch[0]) < 3):
        return ("step", *per_step)
    return ("epoch", *per_epoch) if per_epoch else None


def lambda_panels(qid: str, spec: dict, runs: Sequence[Run]) -> Composed:
    """Per run (one per λ): training loss vs epochs, a sample input, its reconstruction."""
    plt = pyplot()
    notes: list[str] = []
    usable = []
    for run in runs:
        grid = _grid(run, "reconstructions.png", 2)
        loss = _training_loss(run)
        if grid is None or loss is None:
            notes.append(f"{run.id}: no reconstructions.png grid or no per-epoch train loss")
            continue
        usable.append((run, grid, loss))
    if not usable:
        return [], notes
    fig, axes = plt.subplots(len(usable), 3, figsize=(9, 2.8 * len(usable)), squeeze=False,
                             gridspec_kw={"width_ratios": [2.2, 1, 1]})
    for row, (run, grid, (by, xs, ys)) in zip(axes, usable):
        label = _label(spec, run)
        draw_series(row[0], {"train": (xs, ys)}, xlabel=by, ylabel="loss", title=f"{label}: training loss per {by}")
        show(row[1], grid[0][0], f"{label}: sample input")
        show(row[2], grid[1][0], f"{label}: reconstruction")
    fig.tight_layout()
    caption = f"{len(usable) * 3} subimages: for each {spec.get('label', 'setting')}, loss vs epochs, a test input and its reconstruction"
    return [_figure(qid, "panels", caption, fig)], notes


def mean_latent_pair(qid: str, spec: dict, runs: Sequence[Run]) -> Composed:
    """The decoded mean latent of each run, side by side."""
    plt = pyplot()
    found = [(run, _artifact(run, "mean_latent.png")) for run in runs]
    notes = [f"{run.id}: no mean_latent.png" for run, f in found if f is None]
    found = [(run, f) for run, f in found if f is not None]
    if not found:
        return [], notes
    fig, axes = plt.subplots(1, len(found), figsize=(2.6 * len(found), 2.9), squeeze=False)
    for ax, (run, figure) in zip(axes[0], found):
        rows = tile_rows(read_pixels(figure.png))
        show(ax, rows[0][0] if rows else read_pixels(figure.png), f"{_label(spec, run)}: decoded mean z")
    fig.tight_layout()
    return [_figure(qid, "mean_latent", f"{len(found)} subimages: the decoded mean latent of each model", fig)], notes


def originals_over_reconstructions(qid: str, spec: dict, runs: Sequence[Run]) -> Composed:
    """`count` test originals above their reconstructions, labelled."""
    count = int(spec.get("count", 2))
    plt = pyplot()
    for run in runs:
        grid = _grid(run, "reconstructions.png", 2)
        if grid is None or min(len(grid[0]), len(grid[1])) < count:
            continue
        fig, axes = plt.subplots(2, count, figsize=(2.2 * count, 4.6), squeeze=False)
        for i in range(count):
            show(axes[0][i], grid[0][i], f"original {i + 1}")
            show(axes[1][i], grid[1][i], f"reconstruction {i + 1}")
        fig.tight_layout()
        caption = f"{2 * count} images: {count} test originals above their {count} reconstructions"
        return [_figure(qid, "originals", caption, fig)], []
    return [], ["no run has a reconstructions.png grid with originals above reconstructions"]


def gap_vs_size(qid: str, spec: dict, runs: Sequence[Run]) -> Composed:
    """Train − test accuracy against the number of training images (the subset study's summary)."""
    plt = pyplot()
    for run in runs:
        summary = run.summary()
        sizes, gaps = summary.get("sizes"), summary.get("gaps")
        if (isinstance(sizes, list) and isinstance(gaps, list) and sizes and len(sizes) == len(gaps)
                and all(isinstance(v, (int, float)) for v in sizes + gaps)):
            fig, ax = plt.subplots(figsize=(6, 3.6))
            draw_series(ax, {"train − test accuracy": (sizes, gaps)}, xlabel="training images (log scale)",
                        ylabel="train − test accuracy", title="generalisation gap vs training-set size")
            ax.set_xscale("log")
            return [_figure(qid, "gap", "train − test accuracy against the number of training images", fig)], []
    return [], ["no subset-study run with sizes and gaps in its summary"]


def skip_rows(qid: str, spec: dict, runs: Sequence[Run]) -> Composed:
    """Noisy, reconstructed and clean rows of each run side by side (no skip | skip)."""
    plt = pyplot()
    usable = [(run, grid) for run in runs if (grid := _grid(run, "reconstructions.png", 3)) is not None]
    notes = [f"{run.id}: no three-row reconstructions.png (noisy / reconstruction / clean)"
             for run in runs if run not in [u for u, _ in usable]]
    if not usable:
        return [], notes
    names = ("noisy input", "reconstruction", "clean original")
    fig, axes = plt.subplots(3, len(usable), figsize=(4.6 * len(usable), 4.4), squeeze=False)
    for col, (run, grid) in enumerate(usable):
        for row in range(3):
            show(axes[row][col], strip(grid[row][:5]), f"{_label(spec, run)}: {names[row]}")
    fig.tight_layout()
    caption = "rows: noisy input, reconstruction, clean original; columns: " + " | ".join(_label(spec, r) for r, _ in usable)
    return [_figure(qid, "rows", caption, fig)], notes


def named_artifacts(qid: str, spec: dict, runs: Sequence[Run]) -> Composed:
    """Nothing to compose: the named figures are shown first in each run's section."""
    return [], []


COMPOSERS: dict[str, Callable[[str, dict, Sequence[Run]], Composed]] = {
    "artifacts": named_artifacts, "lambda_panels": lambda_panels, "mean_latent_pair": mean_latent_pair,
    "originals_over_reconstructions": originals_over_reconstructions, "gap_vs_size": gap_vs_size,
    "skip_rows": skip_rows,
}


def compose(qid: str, spec: dict | None, runs: Sequence[Run]) -> Composed:
    """The deliverable figures of a question from its runs; a composer's failure is a note, not a crash."""
    if not spec or not runs:
        return [], []
    try:
        return COMPOSERS[spec["kind"]](qid, spec, runs)
    except Exception as exc:  # noqa: BLE001 - a hostile or odd artifact must not stop the report
        return [], [f"could not compose the {spec['kind']} figure: {type(exc).__name__}: {exc}"]
