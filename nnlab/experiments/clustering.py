"""Clusterings shared by the kmeans and autoencoders families: how a partition is measured and shown.

A module of the experiments layer, not a family: families may import it, it imports no family.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from nnlab.core.figures import save_heatmap
from nnlab.core.metrics import hungarian_match
from nnlab.runs.recorder import Recorder


@dataclass
class Clustering:
    """How one set of centres partitions the training set."""

    table: np.ndarray  # (classes, k) counts
    sizes: list[int]
    accuracy: float  # Hungarian-matched
    nmi: float
    inertia: float  # mean squared distance to the nearest centre
    dead: list[str]  # collapsed or dead centres, each with the reason

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"table": self.table.tolist(), "total": int(self.table.sum()), "sizes": self.sizes,
                "accuracy": self.accuracy, "nmi": self.nmi, "inertia": self.inertia, "dead_centers": self.dead}


def report_clustering(recorder: Recorder, name: str, result: Clustering, classes: Sequence[str],
                      why_dead: str = "") -> None:
    """Show and save a clustering: the class-by-centre table (Rich, CSV, PNG) and dead centres.

    `why_dead` explains, for the init that was used, why centres died; shown with them.
    """
    table = result.table
    k = table.shape[1]
    match = hungarian_match(table)
    highlight = {(label, cluster) for cluster, label in match.items()}
    rows = [[classes[i]] + table[i].tolist() + [int(table[i].sum())] for i in range(len(table))]
    footer = ["total"] + result.sizes + [int(table.sum())]
    recorder.table(f"{name}: training images of class i (rows) assigned to centre j (columns)",
                   ["class"] + [f"c{j}" for j in range(k)] + ["total"], rows, footer=footer,
                   caption="highlighted: the Hungarian matching of centres to classes", highlight=highlight)
    recorder.save_csv(f"{name}_table.csv", ["class"] + [f"center_{j}" for j in range(k)],
                      [[classes[i]] + table[i].tolist() for i in range(len(table))])
    save_heatmap(recorder.artifact(f"{name}_table.png"), table, row_labels=list(classes),
                 col_labels=[str(j) for j in range(k)], title=f"{name}: class vs centre",
                 xlabel="centre", ylabel="class")
    if result.dead:
        recorder.warn(f"{name}: {len(result.dead)} dead or collapsed centre(s): mode collapse\n- "
                      + "\n- ".join(result.dead) + (f"\n{why_dead}" if why_dead else ""))
