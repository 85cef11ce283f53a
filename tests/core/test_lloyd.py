"""The torch Lloyd k-means against scikit-learn's KMeans(algorithm="lloyd", n_init=1) from the same centres."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnlab.core.lloyd import lloyd, nearest

sklearn_cluster = pytest.importorskip("sklearn.cluster")


def _blobs(n: int = 600, d: int = 16, k: int = 6, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    means = rng.normal(0, 3, size=(k, d))
    return (means[rng.integers(0, k, n)] + rng.normal(0, 1.5, size=(n, d))).astype(np.float32)


def _sklearn(x: np.ndarray, init: np.ndarray):
    return sklearn_cluster.KMeans(n_clusters=len(init), init=init, n_init=1, algorithm="lloyd").fit(x)


def _assert_same(x: np.ndarray, init: np.ndarray):
    reference = _sklearn(x, init)
    ours = lloyd(torch.from_numpy(x), torch.from_numpy(init))
    np.testing.assert_array_equal(ours.labels.numpy(), reference.labels_)
    assert ours.inertia == pytest.approx(reference.inertia_, rel=1e-4)
    np.testing.assert_allclose(ours.centers.numpy(), reference.cluster_centers_, atol=1e-4)
    assert ours.iterations == reference.n_iter_
    return ours


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_scikit_learn_from_random_points(seed):
    x = _blobs(seed=seed)
    init = x[np.random.default_rng(seed + 10).choice(len(x), 8, replace=False)]
    result = _assert_same(x, init)
    assert result.iterations > 1  # it really iterated


def test_matches_scikit_learn_when_a_cluster_empties():
    x = _blobs(seed=3)
    init = x[:5].copy()
    init = np.vstack([init, np.full((1, x.shape[1]), 100.0, dtype=np.float32)])  # far from every point
    assert (nearest(torch.from_numpy(x), torch.from_numpy(init)) != 5).all()  # cluster 5 starts empty
    result = _assert_same(x, init)
    assert len(result.labels.unique()) == 6  # the empty centre was moved onto a point and kept it


def test_stopping_on_the_tolerance_matches_too():
    x = _blobs(n=2000, d=8, k=12, seed=4)
    init = x[np.random.default_rng(0).choice(len(x), 12, replace=False)]
    reference = sklearn_cluster.KMeans(n_clusters=12, init=init, n_init=1, algorithm="lloyd", tol=1e-2).fit(x)
    ours = lloyd(torch.from_numpy(x), torch.from_numpy(init), tol=1e-2)
    assert ours.iterations == reference.n_iter_
    np.testing.assert_array_equal(ours.labels.numpy(), reference.labels_)
    assert ours.inertia == pytest.approx(reference.inertia_, rel=1e-4)


def test_inertia_is_the_sum_of_squared_distances_and_input_is_untouched():
    x = torch.from_numpy(_blobs(n=300, seed=5))
    before = x.clone()
    result = lloyd(x, x[:4])
    expected = ((x.double() - result.centers.double()[result.labels]) ** 2).sum().item()
    assert result.inertia == pytest.approx(expected, rel=1e-5)
    assert torch.equal(x, before)


def test_shapes_are_checked():
    with pytest.raises(ValueError, match="must be"):
        lloyd(torch.zeros(10, 3), torch.zeros(2, 4))


@pytest.mark.realdata
def test_matches_scikit_learn_on_real_mnist(shared_data):
    from nnlab.core.data import load_dataset, to_float

    data = load_dataset("mnist", shared_data)
    x = to_float(data.train.images[:5_000]).reshape(5_000, 784).contiguous()
    labels = data.train.labels[:5_000]
    first = [int(torch.nonzero(labels == d)[0]) for d in range(10)]  # the exemplar start: one image per digit
    _assert_same(x.numpy(), x[first].numpy())


def test_the_result_does_not_depend_on_the_block_sizes(monkeypatch):
    import nnlab.core.lloyd as module

    x = torch.from_numpy(_blobs(n=3000, d=20, k=9, seed=6))
    init = x[:9].clone()
    whole = lloyd(x, init)
    monkeypatch.setattr(module, "CHUNK", 97)
    monkeypatch.setattr(module, "SMALL_CHUNK", 13)
    blocks = lloyd(x, init)
    assert torch.equal(whole.labels, blocks.labels) and torch.equal(whole.centers, blocks.centers)
    assert whole.iterations == blocks.iterations


def test_a_point_between_two_equal_centres_goes_to_the_lower_index():
    x = torch.tensor([[0.0, 0.0], [2.0, 0.0], [1.0, 0.0]])
    assert nearest(x, torch.tensor([[2.0, 0.0], [0.0, 0.0]])).tolist() == [1, 0, 0]
    assert nearest(x, torch.tensor([[0.0, 0.0], [2.0, 0.0]])).tolist() == [0, 1, 0]


def test_fewer_points_than_clusters_are_refused():
    with pytest.raises(ValueError, match="cannot fill"):
        lloyd(torch.zeros(2, 3), torch.zeros(3, 3))
