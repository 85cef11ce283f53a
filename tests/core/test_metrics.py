"""NMI from the contingency table, against scikit-learn's normalized_mutual_info_score."""

from __future__ import annotations

import numpy as np
import pytest

from nnlab.core.metrics import contingency, nmi, table_nmi

sklearn_metrics = pytest.importorskip("sklearn.metrics")


@pytest.mark.parametrize("seed", range(40))
def test_nmi_matches_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    labels = rng.integers(0, rng.integers(1, 12), n)
    assigned = [rng.integers(0, rng.integers(1, 12), n) * 3 - 2, labels.copy(), (labels + rng.integers(0, 2, n)) % 4]
    for clusters in assigned:
        assert nmi(labels, clusters) == pytest.approx(
            sklearn_metrics.normalized_mutual_info_score(labels, clusters), abs=1e-12)


@pytest.mark.parametrize("labels, clusters", [([], []), ([1, 1], [2, 2]), ([1, 1], [1, 2]), ([0, 1, 0, 1], [5, 5, 5, 5]),
                                              ([0, 1, 2], [2, 0, 1])])
def test_edge_cases_match_scikit_learn(labels, clusters):
    assert nmi(labels, clusters) == sklearn_metrics.normalized_mutual_info_score(labels, clusters)


def test_empty_rows_and_columns_of_a_table_change_nothing():
    labels, clusters = np.array([0, 0, 1, 2, 2, 2]), np.array([1, 1, 0, 0, 3, 3])
    wide = contingency(labels, clusters, 5, 6)  # classes 3, 4 and clusters 2, 4, 5 never occur
    assert table_nmi(wide) == pytest.approx(nmi(labels, clusters), abs=1e-15)
