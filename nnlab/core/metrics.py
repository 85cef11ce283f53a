"""Clustering and classification metrics shared by the experiments."""

from __future__ import annotations

import numpy as np
import torch


def contingency(labels: np.ndarray, assigned: np.ndarray, n_labels: int, n_clusters: int) -> np.ndarray:
    """(n_labels, n_clusters) counts: row i, column j = examples of label i assigned to cluster j."""
    table = np.zeros((n_labels, n_clusters), dtype=np.int64)
    np.add.at(table, (np.asarray(labels), np.asarray(assigned)), 1)
    return table


def hungarian_match(table: np.ndarray) -> dict[int, int]:
    """The one-to-one cluster -> label map that maximises matched counts (Hungarian method)."""
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(table, maximize=True)
    return {int(c): int(r) for r, c in zip(rows, cols)}


def hungarian_accuracy(table: np.ndarray) -> float:
    """Fraction of examples whose cluster is matched to their label by `hungarian_match`."""
    total = table.sum()
    if total == 0:
        return 0.0
    matched = sum(table[label, cluster] for cluster, label in hungarian_match(table).items())
    return float(matched / total)


def nmi(labels: np.ndarray, assigned: np.ndarray) -> float:
    """Normalised mutual information between labels and cluster assignments."""
    _, rows = np.unique(np.asarray(labels), return_inverse=True)
    _, cols = np.unique(np.asarray(assigned), return_inverse=True)
    return table_nmi(contingency(rows, cols, rows.max(initial=-1) + 1, cols.max(initial=-1) + 1))


def table_nmi(table: np.ndarray) -> float:
    """NMI of a (labels, clusters) count table, as scikit-learn's normalized_mutual_info_score
    computes it (arithmetic mean of the two entropies; 1 when neither labelling splits the data)."""
    table = np.asarray(table, dtype=np.float64)
    table = table[table.sum(1) > 0][:, table.sum(0) > 0]
    if table.shape[0] == table.shape[1] <= 1:
        return 1.0
    total, rows, cols = table.sum(), table.sum(1), table.sum(0)
    cells = table > 0
    share = table[cells] / total
    mi = max(float(np.sum(share * (np.log(table[cells]) + np.log(total) - np.log(np.outer(rows, cols)[cells])))), 0.0)
    if mi == 0:
        return 0.0
    return float(mi / np.mean([_entropy(rows), _entropy(cols)]))


def _entropy(counts: np.ndarray) -> float:
    share = counts / counts.sum()
    return float(-np.sum(share * (np.log(counts) - np.log(counts.sum()))))


@torch.no_grad()
def nearest_centers(points: torch.Tensor, centers: torch.Tensor, batch: int = 8192) -> tuple[torch.Tensor, torch.Tensor]:
    """For (N, D) points and (K, D) centres: each point's nearest centre and squared distance."""
    assigned, distances = [], []
    half_norms = 0.5 * (centers ** 2).sum(1)  # (K,)
    for start in range(0, len(points), batch):
        x = points[start:start + batch].float()
        # argmax of x·c − ½|c|² is the nearest centre: the same rule the k-means network uses
        scores = x @ centers.t() - half_norms  # (B, D) @ (D, K) -> (B, K)
        best, index = scores.max(1)
        assigned.append(index)
        distances.append(((x ** 2).sum(1) - 2 * best).clamp_min(0))  # |x−c|² = |x|² − 2(x·c − ½|c|²)
    return torch.cat(assigned), torch.cat(distances)


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Batch-mean accuracy of argmax(logits) against labels, as a tensor (no sync)."""
    return (logits.argmax(1) == labels).float().mean()
