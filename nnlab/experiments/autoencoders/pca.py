"""`nnlab ae --arch linear --latent K` beside PCA (cnn-ae-cae P5.3).

A linear autoencoder x̂ = W_d (W_e x + b_e) + b_d trained with MSE can do no better than PCA
with K components: the best rank-K affine reconstruction is the projection on the top-K
principal subspace around the mean (Eckart-Young; Baldi & Hornik 1989). The decoder's columns
span that subspace at the optimum, though they need not be the principal directions themselves
(any invertible mixing of them is as good). So the comparison is by test MSE and by the
principal angles between the two K-dimensional subspaces, all 0° at the optimum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from nnlab.core.data import Dataset, to_float
from nnlab.core.figures import save_images
from nnlab.core.models.autoencoders import Autoencoder
from nnlab.runs.recorder import Recorder


@dataclass(frozen=True)
class PCAComparison:
    """PCA's test MSE, the linear AE's, and the principal angles between their subspaces (degrees)."""

    k: int
    pca_test_mse: float
    ae_test_mse: float
    angles_deg: list[float]  # smallest first
    explained_variance: float  # share of the training variance the top K components hold


def _flat(images: torch.Tensor) -> np.ndarray:
    return to_float(images).reshape(len(images), -1).cpu().numpy()


def decoder_basis(model: Autoencoder) -> np.ndarray:
    """(784, K): the decoder's columns, the directions z's coordinates add to the mean image."""
    linear = next(m for m in model.decoder if isinstance(m, torch.nn.Linear))
    return linear.weight.detach().double().cpu().numpy()


def compare(model: Autoencoder, data: Dataset, k: int) -> tuple[PCAComparison, np.ndarray]:
    """Fit PCA on the training images, score both on the test images; also return PCA's (K, 784) components."""
    from scipy.linalg import subspace_angles
    from sklearn.decomposition import PCA

    train, test = _flat(data.train.images), _flat(data.test.images)
    pca = PCA(n_components=k, svd_solver="covariance_eigh").fit(train)  # exact: eigh of the 784x784 covariance
    pca_recon = pca.inverse_transform(pca.transform(test))
    with torch.no_grad():
        ae_recon = model.reconstruct(to_float(data.test.images)).reshape(len(test), -1).cpu().numpy()
    angles = np.degrees(subspace_angles(decoder_basis(model), pca.components_.T.astype(np.float64)))
    return PCAComparison(k, float(np.mean((test - pca_recon) ** 2)), float(np.mean((test - ae_recon) ** 2)),
                         sorted(float(a) for a in angles), float(pca.explained_variance_ratio_.sum())), pca.components_


def _unit_range(images: np.ndarray) -> np.ndarray:
    """Each basis image stretched to [0, 1] (its sign and scale are arbitrary)."""
    lo = images.min(axis=(1, 2), keepdims=True)
    hi = images.max(axis=(1, 2), keepdims=True)
    return (images - lo) / np.maximum(hi - lo, 1e-12)


def report_pca(model: Autoencoder, data: Dataset, k: int, recorder: Recorder) -> dict:
    """The table, the angles, the basis figure; the numbers for the result."""
    result, components = compare(model.eval(), data, k)
    recorder.table(f"linear autoencoder vs PCA, K = {k} (test images, per-pixel MSE)", ["model", "test MSE"],
                   [["PCA, top K components (optimal on the training set)", f"{result.pca_test_mse:.5f}"],
                    ["linear autoencoder", f"{result.ae_test_mse:.5f}"]],
                   caption=f"the top {k} components hold {result.explained_variance:.1%} of the training variance")
    angles = ", ".join(f"{a:.1f}" for a in result.angles_deg)
    recorder.info(f"principal angles between the decoder's column space and the top-{k} principal subspace: "
                  f"{angles} degrees (0 at the optimum; the columns themselves may mix the components)")
    basis = decoder_basis(model).T.reshape(k, 28, 28)
    images = np.concatenate([_unit_range(basis), _unit_range(components.reshape(k, 28, 28))])
    columns = min(k, 16)
    shown = np.concatenate([images[:columns], images[k:k + columns]])  # at most 16 of each, one row each
    save_images(recorder.artifact("pca_basis.png"), shown,
                titles=[f"dec {i + 1}" for i in range(columns)] + [f"PC {i + 1}" for i in range(columns)],
                ncols=columns, suptitle="top: the decoder's columns · bottom: the top principal components "
                                        "(each stretched to its own range)")
    return {"pca_test_mse": result.pca_test_mse, "linear_ae_test_mse": result.ae_test_mse,
            "principal_angles_deg": result.angles_deg, "pca_explained_variance": result.explained_variance}
