"""Question 1(a) measured: the step each centre actually takes, and a guard against divergence.

The seed derives C_i ← (1 − α)C_i + α·m_i with α = η/5, for a loss averaged over the batch only
(m_i: the mean of the batch's points in centre i's cell). `StepSizeMeter` measures each
centre's effective α = ‖ΔC_i‖ / ‖m_i − C_i‖ from the real updates, with m_i the batch mean
weighted as the softmax assigns the points, averaged over each epoch's steps; it also stops a
run whose loss or centres stop being finite, with one message instead of NaN tables.
"""

from __future__ import annotations

import torch

from nnlab.core.models.kmeans import KMeansNet
from nnlab.core.train import Callback, EpochResult, TrainState
from nnlab.errors import EXIT_FAILED, NnlabError

MIN_MASS = 0.5  # a centre holding less than half an image of softmax weight in a batch has no m_i there
CHECK_EVERY = 10  # steps between finiteness checks on a GPU, where each is a sync point (every step on the CPU)

WHY_SMALLER = ("nn.MSELoss averages over the 784 pixels as well as the batch, so each step is ~784x smaller "
               "than the seed's derivation (α ≈ η/(5·784) instead of η/5); --reduction image sums over pixels.")


def predicted_alpha(lr: float, share: float, reduction: str, dim: int) -> float:
    """α = 2η·share (share: the centre's fraction of the batch), divided by the pixels for `pixel`.

    With share 1/10, as the seed assumes, that is η/5 for `image` and η/(5·dim) for `pixel`.
    """
    return 2 * lr * share / (dim if reduction == "pixel" else 1)


class StepSizeMeter(Callback):
    """Call `observe(net, x0)` before each training step; read `alphas` and `shares` after fit.

    `alphas[e][i]` is centre i's mean effective α over epoch e+1's steps where it held at least
    MIN_MASS images of weight (None if it never did); `shares[e][i]` its mean fraction of the
    batch over those same steps.
    """

    def __init__(self, k: int, reduction: str, lr: float):
        self.k, self.reduction, self.lr = k, reduction, lr
        self.alphas: list[list[float | None]] = []
        self.shares: list[list[float]] = []
        self._pending: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None
        self._reset()

    def _reset(self) -> None:
        self._ratio_sum = self._counted = self._share_sum = None

    @torch.no_grad()
    def observe(self, net: KMeansNet, x0: torch.Tensor) -> None:
        """Record, before the step, where each centre is and the weighted mean m_i it is pulled to."""
        weights = net.softmax(net.temperature * net.scores(x0))  # (B, k): how the forward assigns the points
        mass = weights.sum(0)  # (k,) images of weight per centre
        means = weights.t() @ x0 / mass.clamp_min(1e-12)[:, None]  # (k, B) @ (B, 784) -> (k, 784): m_i
        before = net.centers.detach().clone()
        self._pending = (before, (means - before).norm(dim=1), mass)

    @torch.no_grad()
    def on_step_end(self, state: TrainState) -> None:
        if self._pending is None:
            return
        before, gap, mass = self._pending
        self._pending = None
        centers = state.model.centers.detach()
        moved = (centers - before).norm(dim=1)  # (k,) ‖ΔC_i‖
        valid = (mass >= MIN_MASS) & (gap > 0)
        ratio = torch.where(valid, moved / torch.where(valid, gap, torch.ones_like(gap)), torch.zeros_like(gap))
        share = torch.where(valid, mass / mass.sum(), torch.zeros_like(mass))  # over the steps α is measured on
        if self._ratio_sum is None:
            self._ratio_sum, self._counted, self._share_sum = ratio, valid.float(), share
        else:
            self._ratio_sum, self._counted = self._ratio_sum + ratio, self._counted + valid.float()
            self._share_sum = self._share_sum + share
        if centers.device.type == "cpu" or state.step % CHECK_EVERY == 0:
            check_finite(state, self.reduction, self.lr)

    def on_epoch_end(self, state: TrainState, result: EpochResult) -> None:
        check_finite(state, self.reduction, self.lr)
        if self._ratio_sum is None:
            return
        ratios, counts = self._ratio_sum.cpu(), self._counted.cpu()
        self.alphas.append([float(r / c) if c else None for r, c in zip(ratios, counts)])
        self.shares.append([float(s / c) if c else 0.0 for s, c in zip(self._share_sum.cpu(), counts)])
        self._reset()


def check_finite(state: TrainState, reduction: str = "pixel", lr: float | None = None) -> None:
    """Stop the run (failed, exit 1) once the loss or a centre is no longer finite."""
    loss_ok = state.loss is None or bool(torch.isfinite(state.loss))  # CPU-GPU sync point
    if loss_ok and bool(torch.isfinite(state.model.centers).all()):
        return
    why = ("with --reduction image a centre steps by α = 2η·(its share of the batch), η/5 at the seed's 1/10 share; "
           f"a centre holding more than 1/η{f' = {1 / lr:.2f}' if lr else ''} of a batch gets α > 2 and overshoots its "
           "cell's mean by more than it was away, and the sharp softmax amplifies it: use --reduction pixel "
           "(nn.MSELoss's mean) or a smaller --lr"
           if reduction == "image" else "use a smaller --lr")
    raise NnlabError(f"the k-means network diverged at step {state.step} (epoch {state.epoch}): the loss or the "
                     f"centres are no longer finite; {why}", exit_code=EXIT_FAILED)
