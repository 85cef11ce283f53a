"""The loss landscape: batched grid evaluation equals point-by-point, directions, window."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch.nn import functional as F
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from nnlab.core.models.classifiers import MLP
from nnlab.errors import NnlabError
from nnlab.experiments.landscape.config import LandscapeConfig
from nnlab.experiments.landscape.figures import Scale
from nnlab.experiments.landscape.run import (grid_coords, pca_directions, plane_losses, project, random_directions,
                                             vector_losses, window)


def _setup(seed: int = 0):
    torch.manual_seed(seed)
    model = MLP(layers=2, units=6)
    images = torch.randn(40, 1, 28, 28)
    labels = torch.randint(0, 10, (40,))
    return model, images, labels


def _loss_at(model, vector, images, labels) -> float:
    probe = copy.deepcopy(model)
    vector_to_parameters(vector, probe.parameters())
    with torch.no_grad():
        return float(F.cross_entropy(probe(images), labels))


def test_grid_evaluation_equals_point_by_point():
    model, images, labels = _setup()
    origin = parameters_to_vector(model.parameters()).detach()
    directions = torch.randn(2, len(origin)) * 0.1
    xs, ys, points = grid_coords([(-1.0, 2.0), (-0.5, 0.5)], 5)
    batched = plane_losses(model, origin, directions, points, images, labels, chunk=7)  # 7 does not divide 25
    one_by_one = [_loss_at(model, origin + a * directions[0] + b * directions[1], images, labels) for a, b in points]
    np.testing.assert_allclose(batched.numpy(), one_by_one, rtol=1e-5, atol=1e-6)
    assert torch.equal(points[1], torch.tensor([xs[0], ys[1]]))  # row-major: the y index moves fastest


def test_vector_losses_match_the_model():
    model, images, labels = _setup(1)
    vectors = torch.stack([parameters_to_vector(model.parameters()).detach() * s for s in (1.0, 0.5, 2.0)])
    expected = [_loss_at(model, v, images, labels) for v in vectors]
    np.testing.assert_allclose(vector_losses(model, vectors, images, labels, chunk=2).numpy(), expected, rtol=1e-5)


def _planar_path(dims: int = 50, steps: int = 12) -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    final = torch.randn(dims, dtype=torch.float64)
    basis = torch.linalg.qr(torch.randn(dims, 2, dtype=torch.float64)).Q.T  # (2, D) orthonormal
    t = torch.linspace(0, 1, steps, dtype=torch.float64)
    return final + (3 * (1 - t))[:, None] * basis[0] + torch.sin(3 * t)[:, None] * basis[1], basis


def test_pca_directions_are_sklearns_components_centred_at_the_path_mean():
    from sklearn.decomposition import PCA

    torch.manual_seed(1)
    path = torch.randn(15, 40, dtype=torch.float64).cumsum(0)  # a random walk: a path with a mean off its ends
    mean, directions, share = pca_directions(path.float())
    reference = PCA(n_components=2).fit(path.numpy())
    np.testing.assert_allclose(mean.numpy(), reference.mean_, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(share, reference.explained_variance_ratio_, rtol=1e-5)
    for mine, theirs in zip(directions.double().numpy(), reference.components_):
        assert abs(float(mine @ theirs)) == pytest.approx(1.0, abs=1e-5)  # equal up to sign
    np.testing.assert_allclose(np.abs(directions.numpy()), np.abs(reference.components_), atol=1e-5)
    coords, _ = project(path.float(), mean, directions)
    assert (coords[0] > 0).all()  # oriented so the start is at positive coordinates
    signs = np.sign((directions.double().numpy() * reference.components_).sum(1))
    np.testing.assert_allclose(coords.numpy(), reference.transform(path.numpy()) * signs, atol=1e-3)


def test_a_planar_path_is_kept_whole_by_its_pca_plane():
    path, basis = _planar_path()
    mean, directions, share = pca_directions(path)
    torch.testing.assert_close(directions @ directions.T, torch.eye(2, dtype=path.dtype), atol=1e-8, rtol=0)
    assert share.sum() == pytest.approx(1.0, abs=1e-8)  # the path lies in a plane
    coords, kept = project(path, mean, directions)
    assert kept == pytest.approx(1.0, abs=1e-8)
    torch.testing.assert_close(mean + coords @ directions, path, atol=1e-8, rtol=0)


def test_the_z_scale_is_f_ce_itself_unless_log_is_asked():
    losses = np.array([0.5, 2.0, 20.0])
    np.testing.assert_array_equal(Scale()(losses), losses)
    np.testing.assert_allclose(Scale(log=True)(losses), np.log10(losses))
    assert (Scale().label, Scale(log=True).label) == ("f_CE", "log10 f_CE")
    assert LandscapeConfig().log_z is False


def test_random_directions_are_filter_normalised_and_skip_biases():
    model, _, _ = _setup(2)
    directions = random_directions(model, torch.Generator().manual_seed(0))
    for d in directions:
        offset = 0
        for p in model.parameters():
            part = d[offset:offset + p.numel()].reshape(p.shape)
            offset += p.numel()
            if p.dim() == 1:
                assert torch.count_nonzero(part) == 0
            else:
                torch.testing.assert_close(part.norm(dim=1), p.detach().norm(dim=1), rtol=1e-5, atol=1e-6)


def test_window_holds_the_path_with_margin():
    coords = np.array([[2.0, -1.0], [1.0, 0.5], [0.0, 0.0]])
    (x0, x1), (y0, y1) = window(coords, 0.25)
    assert (x0, x1) == pytest.approx((-0.5, 2.5)) and (y0, y1) == pytest.approx((-1.375, 0.875))
    assert window(coords * 1e-3, 0.25, minimum=1.0)[0] == pytest.approx((-1.0, 1.0))


@pytest.mark.parametrize("bad", [{"grid": 2}, {"directions": "sideways"}, {"subset": 0}, {"snapshots": 0}])
def test_landscape_config_rejects_bad_values(bad):
    with pytest.raises(NnlabError):
        LandscapeConfig(**bad)
