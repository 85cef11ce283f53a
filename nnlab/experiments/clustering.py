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


def greedy_centroid_match(centres: np.ndarray, class_centroids: np.ndarray) -> dict[int, int]:
    """The denoising report's cluster -> class map: a partial one-to-one map.

    Each cluster centre takes the class whose centroid (the mean point of that class) is
    nearest. While two clusters claim one class, the (claimant, unclaimed class) pair at the
    smallest distance moves: the report's "next closest centroid that has not been assigned
    yet". With no unclaimed class left (k > classes), the nearest claimant keeps the class and
    the others stay unmapped (their points count as wrong, as with the Hungarian map).
    """
    dist = np.linalg.norm(centres[:, None, :] - class_centroids[None, :, :], axis=2)  # (k, classes)
    mapping = {c: int(np.argmin(dist[c])) for c in range(len(dist))}
    while True:
        claims: dict[int, list[int]] = {}
        for cluster, label in mapping.items():
            claims.setdefault(label, []).append(cluster)
        contested = sorted(label for label, clusters in claims.items() if len(clusters) > 1)
        if not contested:
            return mapping
        label, claimants = contested[0], claims[contested[0]]
        free = [other for other in range(dist.shape[1]) if other not in claims]
        if free:
            cluster, target = min(((c, f) for c in claimants for f in free), key=lambda pair: dist[pair])
            mapping[cluster] = target
        else:
            keep = min(claimants, key=lambda c: dist[c, label])
            for cluster in claimants:
                if cluster != keep:
                    del mapping[cluster]


def mapped_accuracy(table: np.ndarray, mapping: dict[int, int]) -> float:
    """Fraction of the (classes, k) table's points whose cluster `mapping` sends to their class."""
    total = table.sum()
    return float(sum(table[label, cluster] for cluster, label in mapping.items()) / total) if total else 0.0


def report_clustering(recorder: Recorder, name: str, result: Clustering, classes: Sequence[str],
                      why_dead: str = "", match: dict[int, int] | None = None, match_name: str = "Hungarian") -> None:
    """Show and save a clustering: the class-by-centre table (Rich, CSV, PNG) and dead centres.

    `why_dead` explains, for the init that was used, why centres died; shown with them.
    `match` (cluster -> class, default the Hungarian matching) is highlighted, named `match_name`.
    """
    table = result.table
    k = table.shape[1]
    match = hungarian_match(table) if match is None else match
    highlight = {(label, cluster) for cluster, label in match.items()}
    rows = [[classes[i]] + table[i].tolist() + [int(table[i].sum())] for i in range(len(table))]
    footer = ["total"] + result.sizes + [int(table.sum())]
    recorder.table(f"{name}: training images of class i (rows) assigned to centre j (columns)",
                   ["class"] + [f"c{j}" for j in range(k)] + ["total"], rows, footer=footer,
                   caption=f"highlighted: the {match_name} matching of centres to classes", highlight=highlight)
    recorder.save_csv(f"{name}_table.csv", ["class"] + [f"center_{j}" for j in range(k)],
                      [[classes[i]] + table[i].tolist() for i in range(len(table))])
    save_heatmap(recorder.artifact(f"{name}_table.png"), table, row_labels=list(classes),
                 col_labels=[str(j) for j in range(k)], title=f"{name}: class vs centre",
                 xlabel="centre", ylabel="class")
    if result.dead:
        recorder.warn(f"{name}: {len(result.dead)} dead or collapsed centre(s): mode collapse\n- "
                      + "\n- ".join(result.dead) + (f"\n{why_dead}" if why_dead else ""))
