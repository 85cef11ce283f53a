"""The k-means network's training loss and its gradient in one pass, bit for bit as autograd gets them.

Training is chaotic at the level of float rounding: the sharp softmax turns a last-bit change in
one step into a different run within a few hundred steps. So this pass does not merely compute
the same gradient: it calls the very kernels autograd calls for `KMeansNet.forward` and the
loss, on the same operands in the same layouts, and adds the three paths into the centres'
gradient in the order autograd's engine does (the product w·C, then ‖C‖², then x·Cᵀ). The
network trains exactly as through `loss.backward()`, without building and walking a graph
each step (the fit loop steps the optimizer on a gradient an objective has set); the tests in
tests/experiments/test_kmeans_gradient.py hold it to bitwise equality.
"""

from __future__ import annotations

import torch

from nnlab.core.models.kmeans import KMeansNet


def _mm_mat1_grad(grad: torch.Tensor, mat1: torch.Tensor, mat2: torch.Tensor) -> torch.Tensor:
    """d(mat1 @ mat2)/d mat1, in the layout autograd's mm_mat1_backward uses."""
    if mat1.stride(0) == 1 and mat1.stride(1) == mat1.shape[0]:  # column-major input
        return mat2.mm(grad.t()).t()
    return grad.mm(mat2.t())


def _mm_mat2_grad(grad: torch.Tensor, mat1: torch.Tensor, mat2: torch.Tensor) -> torch.Tensor:
    """d(mat1 @ mat2)/d mat2, in the layout autograd's mm_mat2_backward uses."""
    if mat2.stride(0) == 1 and mat2.stride(1) == mat2.shape[0]:  # column-major input
        return grad.t().mm(mat1).t()
    return mat1.t().mm(grad)


def batch_loss(error: torch.Tensor, reduction: str) -> torch.Tensor:
    """The loss of a batch's reconstruction errors: "pixel" is nn.MSELoss against zeros (the mean
    over batch and pixels, the same squares and mean); "image" sums over pixels and averages
    over the batch (the seed's derivation)."""
    if reduction == "image":
        return (error ** 2).sum(1).mean()
    return (error * error).mean()


@torch.no_grad()
def loss_and_gradient(net: KMeansNet, x0: torch.Tensor, reduction: str):
    """(`batch_loss`, d loss / d centres, softmax weights) for the (B, 784) batch `x0`."""
    centers = net.centers
    transposed = centers.t()
    # KMeansNet.forward's kernels: matmul of 2-D tensors is mm, and flatten of ‖C‖² (1-D) is itself
    scores = x0.mm(transposed) - 0.5 * torch.sum(centers ** 2, 1)
    weights = torch.softmax(net.temperature * scores, dim=1)
    error = weights.mm(centers) - x0
    loss = batch_loss(error, reduction)
    if reduction == "image":
        rows = torch.ones((), dtype=error.dtype, device=error.device).expand(len(error)) / len(error)
        d_error = rows.unsqueeze(1) * (2.0 * error)  # mean, sum and pow backward
    else:
        d_error = error.mul(2.0 / error.numel())  # mse_loss_backward: (2/n)·(error − 0)·1
    grad = _mm_mat2_grad(d_error, weights, centers)  # through weights @ centers
    d_weights = _mm_mat1_grad(d_error, weights, centers)
    d_scores = torch.ops.aten._softmax_backward_data(d_weights, weights, 1, weights.dtype) * net.temperature
    # through −½‖C‖²: autograd scales −Σ_b d_scores by ½, then by 2C; both scalings are exact, so
    # each element is −C·Σ_b d_scores rounded once, as here (elementwise results ignore layout)
    grad = grad - centers * d_scores.sum(0).unsqueeze(1)
    grad = grad + _mm_mat2_grad(d_scores, x0, transposed).t()  # through x0 @ centers.t()
    return loss, grad, weights


def set_gradient(net: KMeansNet, x0: torch.Tensor, reduction: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Put d loss / d centres in `net.centers.grad` (for the optimizer's step, without `backward`);
    return the loss (detached) and the softmax weights of the batch."""
    loss, grad, weights = loss_and_gradient(net, x0, reduction)
    net.centers.grad = grad
    return loss, weights


class PlainSGD:
    """torch.optim.SGD(params, lr) for the fit loop (no momentum, no weight decay), bit for bit.

    Its step is SGD's p ← p − lr·grad through torch._foreach_add_: SGD's own call on an
    accelerator and, on a CPU, the same add_ as SGD's single-tensor path. Building any
    torch.optim optimizer imports torch._dynamo, seconds of start-up this run has no use for.
    """

    def __init__(self, params, lr: float):
        self.param_groups = [{"params": list(params), "lr": lr}]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (always set to None, as the fit loop asks)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """One plain gradient step of every parameter that has a gradient."""
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if params:
                torch._foreach_add_(params, [p.grad for p in params], alpha=-group["lr"])
