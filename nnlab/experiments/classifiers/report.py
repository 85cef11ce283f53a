"""What `nnlab cnn` shows about a trained classifier: first-layer filters, the confusion
matrix and its most-confused pairs, per-class accuracy, misclassified images."""

from __future__ import annotations

import numpy as np
import torch

from nnlab.core.data import Split
from nnlab.core.figures import _pyplot, image_grid, save_heatmap, save_images
from nnlab.core.metrics import contingency
from nnlab.runs.recorder import Recorder

HIGHLIGHT_CELLS = 5  # the largest off-diagonal confusion cells emphasised in the table
MISCLASSIFIED_SHOWN = 20  # two rows of ten in the PNG


def short_names(classes: list[str]) -> list[str]:
    """Labels that fit a table cell: '3 - three' -> '3', 'T-shirt/top' -> 'T-shirt', 'Ankle boot' -> 'Boot'."""
    names = []
    for c in classes:
        if " - " in c:
            names.append(c.split(" - ")[0])
        else:
            names.append(c.split("/")[0].split(" ")[-1].capitalize() if " " in c else c.split("/")[0])
    return names


def most_confused(table: np.ndarray, k: int = 3) -> list[tuple[int, int, int]]:
    """The `k` largest off-diagonal cells as (true, predicted, count), largest first, zeros left out."""
    off = table.copy()
    np.fill_diagonal(off, 0)
    flat = np.argsort(off, axis=None)[::-1][:k]
    cells = [(int(i), int(j), int(off[i, j])) for i, j in zip(*np.unravel_index(flat, off.shape))]
    return [cell for cell in cells if cell[2] > 0]


def confusion_sentence(table: np.ndarray, names: list[str]) -> str:
    """One sentence naming the most-confused pairs (both directions summed)."""
    pair = table + table.T
    np.fill_diagonal(pair, 0)
    pair = np.triu(pair)
    cells = most_confused(pair, 3)
    if not cells:
        return "No test image was misclassified."
    parts = [f"{names[i]} and {names[j]} ({table[i, j]} {names[i]}→{names[j]}, {table[j, i]} {names[j]}→{names[i]})"
             for i, j, _ in cells]
    return "Most confused pairs: " + "; ".join(parts) + "."


def report_confusion(recorder: Recorder, labels: np.ndarray, predicted: np.ndarray, classes: list[str]) -> dict:
    """Table (largest off-diagonal cells highlighted), PNG heatmap, sentence and per-class accuracy."""
    n = len(classes)
    names = short_names(classes)
    table = contingency(labels, predicted, n, n)
    totals = table.sum(1)
    per_class = np.divide(np.diag(table), totals, out=np.zeros(n), where=totals > 0)
    highlight = {(i, j + 1) for i, j, _ in most_confused(table, HIGHLIGHT_CELLS)}
    rows = [[names[i]] + table[i].tolist() + [f"{100 * per_class[i]:.1f}"] for i in range(n)]
    # columns by index keep ten classes within 100 terminal columns; a legend names them
    recorder.table("test confusion: rows true, columns predicted",
                   ["true"] + [str(i) for i in range(n)] + ["acc %"], rows,
                   caption=f"highlighted: the {HIGHLIGHT_CELLS} largest off-diagonal cells", highlight=highlight)
    if names != [str(i) for i in range(n)]:
        recorder.info("columns: " + ", ".join(f"{i} {name}" for i, name in enumerate(names)))
    recorder.save_csv("confusion.csv", ["true"] + names, [[names[i]] + table[i].tolist() for i in range(n)])
    recorder.save_csv("per_class_accuracy.csv", ["class", "accuracy", "count"],
                      [[classes[i], float(per_class[i]), int(totals[i])] for i in range(n)])
    save_heatmap(recorder.artifact("confusion.png"), table, row_labels=names, col_labels=names,
                 title="test confusion matrix", xlabel="predicted", ylabel="true")
    sentence = confusion_sentence(table, names)
    recorder.info(sentence)
    return {"confusion": table.tolist(), "per_class_accuracy": dict(zip(classes, per_class.tolist())),
            "most_confused": sentence}


def report_misclassified(recorder: Recorder, split: Split, predicted: torch.Tensor, classes: list[str]) -> int:
    """Save a grid of misclassified test images titled true→predicted; show the first ten."""
    wrong = torch.nonzero(predicted != split.labels).flatten()
    if len(wrong) == 0:
        return 0
    names = short_names(classes)
    pick = wrong[:MISCLASSIFIED_SHOWN]
    images = split.images[pick, 0].float().div(255).cpu().numpy()
    pairs = [f"{names[t]}→{names[p]}" for t, p in zip(split.labels[pick].tolist(), predicted[pick].tolist())]
    save_images(recorder.artifact("misclassified.png"), images, titles=pairs, ncols=10,
                suptitle=f"misclassified test images (true→predicted), {len(pick)} of {len(wrong)}")
    # 3 per row shows 28-pixel digits at full resolution in a 100-column terminal
    recorder.image(image_grid(images[:6], ncols=3, pad=2, fill=0.35),
                   title=f"misclassified (first {min(6, len(wrong))} of {len(wrong)}, true→predicted, row by row): "
                   + ", ".join(pairs[:6]))
    return len(wrong)


def report_filters(recorder: Recorder, weight: torch.Tensor) -> None:
    """The first layer's filters, each scaled to [0, 1], as a PNG grid and in the terminal."""
    filters = weight.detach().cpu()[:, 0].numpy()  # (40, 5, 5)
    lo = filters.min(axis=(1, 2), keepdims=True)
    hi = filters.max(axis=(1, 2), keepdims=True)
    scaled = (filters - lo) / np.maximum(hi - lo, 1e-12)
    title = f"first-layer filters ({len(scaled)}, 10 per row, each scaled to its own range)"
    grid = image_grid(scaled, ncols=10, pad=1, fill=0.35)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.6))  # one axes: 40 subplots cost seconds for no gain
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([2 + 6 * i for i in range(10)], labels=[str(i) for i in range(10)])
    ax.set_yticks([2 + 6 * r for r in range(-(-len(scaled) // 10))],
                  labels=[str(10 * r) for r in range(-(-len(scaled) // 10))])
    ax.tick_params(length=0)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(recorder.artifact("filters.png"), dpi=110)
    plt.close(fig)
    big = np.kron(scaled, np.ones((2, 2)))  # 5x5 is too small to read as half-blocks
    # 8 per row keeps every pixel within a 100-column terminal (wider grids get averaged down)
    recorder.image(image_grid(big, ncols=8, pad=1, fill=0.35), title=title.replace("10 per row", "8 per row"))
