"""`ae --arch linear` beside PCA (P5.3): a linear AE set to PCA's solution matches it exactly; a trained one
is compared by test MSE and principal angles."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

from nnlab.core.data import Dataset, Split, to_float
from nnlab.experiments.autoencoders.config import AEConfig
from nnlab.experiments.autoencoders.pca import compare
from nnlab.experiments.autoencoders.run import build_model, run
from nnlab.runs.recorder import Recorder

K = 3


def _dataset(seed=0, n_train=300, n_test=100) -> Dataset:
    """Images near a K-dimensional affine subspace of pixel space, as uint8 (N, 1, 28, 28)."""
    rng = np.random.default_rng(seed)
    basis = rng.normal(0, 1, (K, 784))
    mean = rng.uniform(60, 190, 784)

    def split(n):
        pixels = mean + rng.normal(0, 12, (n, K)) @ basis + rng.normal(0, 3, (n, 784))
        images = torch.from_numpy(np.clip(pixels, 0, 255).round().astype(np.uint8)).reshape(n, 1, 28, 28)
        return Split(images, torch.zeros(n, dtype=torch.long))

    return Dataset("synthetic", split(n_train), split(n_test), [str(i) for i in range(10)], "test")


def test_linear_preset_has_no_activation():
    model = build_model(AEConfig(arch="linear", latent=K))
    kinds = [type(m).__name__ for m in [*model.encoder, *model.decoder]]
    assert kinds == ["Flatten", "Linear", "Linear", "Unflatten"]
    assert AEConfig(arch="linear").latent == 8 and AEConfig(arch="linear").loss == "mse"


def test_a_linear_ae_set_to_pca_matches_it_exactly():
    data = _dataset()
    train = to_float(data.train.images).reshape(len(data.train), -1).double().numpy()
    pca = PCA(n_components=K).fit(train)
    model = build_model(AEConfig(arch="linear", latent=K)).double()
    encoder, decoder = model.encoder[1], model.decoder[0]
    with torch.no_grad():  # z = V^T (x - μ), x̂ = μ + V z: PCA's projection written as the two layers
        components = torch.from_numpy(pca.components_)  # (K, 784)
        mean = torch.from_numpy(pca.mean_)
        encoder.weight.copy_(components)
        encoder.bias.copy_(-components @ mean)
        decoder.weight.copy_(components.T)
        decoder.bias.copy_(mean)
    model.float()
    result, _ = compare(model, data, K)
    assert result.ae_test_mse == pytest.approx(result.pca_test_mse, rel=1e-4)  # float32 forward pass
    assert max(result.angles_deg) < 0.01
    assert 0.5 < result.explained_variance <= 1


def test_a_mixed_basis_spans_the_same_subspace():
    data = _dataset(seed=1)
    train = to_float(data.train.images).reshape(len(data.train), -1).numpy()
    pca = PCA(n_components=K).fit(train)
    model = build_model(AEConfig(arch="linear", latent=K))
    mix = torch.tensor([[1.0, 2.0, 0.0], [0.0, 1.0, -1.0], [3.0, 0.0, 1.0]])  # invertible
    with torch.no_grad():
        model.decoder[0].weight.copy_(torch.from_numpy(pca.components_.T).float() @ mix)
    result, _ = compare(model, data, K)
    assert max(result.angles_deg) < 0.05  # the columns differ from the PCs, the subspace does not
    rotated = torch.randn(784, K, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        model.decoder[0].weight.copy_(rotated)
    assert min(compare(model, data, K)[0].angles_deg) > 45  # a random 3-D subspace of 784-D is nearly orthogonal


def test_trained_linear_ae_run_reports_pca(idx_data_dir):
    config = AEConfig(arch="linear", latent=4, epochs=2, data_dir=str(idx_data_dir), fallback=False)
    recorder = Recorder()
    result = run(config, recorder)
    assert set(result) >= {"pca_test_mse", "linear_ae_test_mse", "principal_angles_deg", "pca_explained_variance"}
    assert result["linear_ae_test_mse"] == pytest.approx(result["test_mse"], rel=1e-5)  # the same reconstructions
    assert result["pca_test_mse"] < result["linear_ae_test_mse"]  # two epochs on 200 images are far from the optimum
    angles = result["principal_angles_deg"]
    assert len(angles) == 4 and all(0 <= a <= 90 for a in angles) and angles == sorted(angles)
    assert recorder.artifact("pca_basis.png").stat().st_size > 5_000
