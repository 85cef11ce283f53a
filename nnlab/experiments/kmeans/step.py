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

    Each step only keeps its three (k,) measurements; every FOLD steps they are turned into
    ratios and shares at once and added to the epoch's sums one step after the other, in step
    order, so the sums are bit for bit those of adding each step as it came, at a fraction of
    the per-step work.
    """

    FOLD = 1024  # steps kept before they are added in

    def __init__(self, k: int, reduction: str, lr: float):
        self.k, self.reduction, self.lr = k, reduction, lr
        self.alphas: list[list[float | None]] = []
        self.shares: list[list[float]] = []
        self._pending: tuple[torch.Tensor, ...] | None = None
        self._steps: list[tuple[torch.Tensor, ...]] = []  # (moved, gap, mass, total mass) of each step
        self._reset()

    def _reset(self) -> None:
        self._ratio_sum = self._counted = self._share_sum = None

    @torch.no_grad()
    def observe(self, net: KMeansNet, x0: torch.Tensor, weights: torch.Tensor | None = None) -> None:
        """Record, before the step, where each centre is and the weighted mean m_i it is pulled to.

        `weights` are the forward's softmax weights of `x0` when the caller has them already.
        """
        if weights is None:  # (B, k): how the forward assigns the points
            weights = net.softmax(net.temperature * net.scores(x0))
        mass = weights.sum(0)  # (k,) images of weight per centre
        means = weights.t() @ x0 / mass.clamp_min(1e-12)[:, None]  # (k, B) @ (B, 784) -> (k, 784): m_i
        before = net.centers.detach().clone()
        self._pending = (before, torch.linalg.vector_norm(means - before, dim=1), mass, mass.sum())

    @torch.no_grad()
    def on_step_end(self, state: TrainState) -> None:
        if self._pending is None:
            return
        before, gap, mass, total = self._pending
        self._pending = None
        centers = state.model.centers.detach()
        self._steps.append((torch.linalg.vector_norm(centers - before, dim=1), gap, mass, total))  # ‖ΔC_i‖ first
        if len(self._steps) >= self.FOLD:
            self._fold()
        if centers.device.type == "cpu" or state.step % CHECK_EVERY == 0:
            check_finite(state, self.reduction, self.lr)

    def _fold(self) -> None:
        """Add the kept steps' ratios and shares into the epoch's sums, in step order."""
        if not self._steps:
            return
        moved, gap, mass, total = (torch.stack(values) for values in zip(*self._steps))  # (S, k), total (S,)
        self._steps = []
        valid = (mass >= MIN_MASS) & (gap > 0)
        ratio = torch.where(valid, moved / torch.where(valid, gap, torch.ones_like(gap)), torch.zeros_like(gap))
        share = torch.where(valid, mass / total[:, None], torch.zeros_like(mass))  # over the steps α is measured on
        counted = valid.float()
        for r, c, sh in zip(ratio, counted, share):
            if self._ratio_sum is None:
                self._ratio_sum, self._counted, self._share_sum = r, c, sh
            else:
                self._ratio_sum, self._counted, self._share_sum = \
                    self._ratio_sum + r, self._counted + c, self._share_sum + sh

    def on_epoch_end(self, state: TrainState, result: EpochResult) -> None:
        check_finite(state, self.reduction, self.lr)
        self._fold()
        if self._ratio_sum is None:
            return
        ratios, counts = self._ratio_sum.cpu(), self._counted.cpu()
        self.alphas.append([float(r / c) if c else None for r, c in zip(ratios, counts)])
        self.shares.append([float(s / c) if c else 0.0 for s, c in zip(self._share_sum.cpu(), counts)])
        self._reset()


def check_finite(state: TrainState, reduction: str = "pixel", lr: float | None = None) -> None:
    """Stop the run (failed, exit 1) once the loss or a centre is no longer finite."""
    finite = torch.isfinite(state.model.centers).all()
    if state.loss is not None:
        finite &= torch.isfinite(state.loss)
    if bool(finite):  # a CPU-GPU sync point
        return
    why = ("with --reduction image a centre steps by α = 2η·(its share of the batch), η/5 at the seed's 1/10 share; "
           f"a centre holding more than 1/η{f' = {1 / lr:.2f}' if lr else ''} of a batch gets α > 2 and overshoots its "
           "cell's mean by more than it was away, and the sharp softmax amplifies it: use --reduction pixel "
           "(nn.MSELoss's mean) or a smaller --lr"
           if reduction == "image" else "use a smaller --lr")
    raise NnlabError(f"the k-means network diverged at step {state.step} (epoch {state.epoch}): the loss or the "
                     f"centres are no longer finite; {why}", exit_code=EXIT_FAILED)
