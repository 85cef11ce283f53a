"""The k-means network's hand-written gradient pass against autograd: equal bit for bit, so a
run trains exactly as through loss.backward() and torch.optim.SGD."""

from __future__ import annotations

import pytest
import torch

from nnlab.experiments.kmeans.gradient import PlainSGD, batch_loss, loss_and_gradient
from nnlab.core.models.kmeans import KMeansNet


def _net_and_batch(seed: int, batch: int = 64) -> tuple[KMeansNet, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    net = KMeansNet()
    with torch.no_grad():
        net.centers.copy_(torch.rand(10, 784, generator=g))
    x0 = torch.rand(batch, 784, generator=g)
    return net, x0


def _autograd(net: KMeansNet, x0: torch.Tensor, reduction: str) -> tuple[torch.Tensor, torch.Tensor]:
    error = net(x0)
    if reduction == "image":
        loss = (error ** 2).sum(1).mean()
    else:
        loss = torch.nn.MSELoss()(error, torch.zeros_like(error))
    net.centers.grad = None
    loss.backward()
    return loss.detach(), net.centers.grad.clone()


@pytest.mark.parametrize("reduction", ["pixel", "image"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_loss_and_gradient_equal_autograd_bitwise(reduction, seed):
    net, x0 = _net_and_batch(seed, batch=64 + seed * 37)
    want_loss, want_grad = _autograd(net, x0, reduction)
    loss, grad, weights = loss_and_gradient(net, x0, reduction)
    assert torch.equal(loss, want_loss)
    assert torch.equal(grad, want_grad)
    assert weights.shape == (len(x0), 10) and torch.allclose(weights.sum(1), torch.ones(len(x0)))
    assert not loss.requires_grad


@pytest.mark.parametrize("reduction", ["pixel", "image"])
def test_batch_loss_matches_the_seeds_losses(reduction):
    error = torch.randn(8, 784, generator=torch.Generator().manual_seed(3))
    want = (error ** 2).sum(1).mean() if reduction == "image" else torch.nn.MSELoss()(error, torch.zeros_like(error))
    assert torch.equal(batch_loss(error, reduction), want)


def test_plain_sgd_steps_as_torch_sgd_over_many_steps():
    """Fifty steps of hand gradients + PlainSGD end on the very centres of autograd + torch SGD."""
    ours, x0 = _net_and_batch(4)
    theirs = KMeansNet()
    with torch.no_grad():
        theirs.centers.copy_(ours.centers)
    plain, sgd = PlainSGD(ours.parameters(), lr=0.05), torch.optim.SGD(theirs.parameters(), lr=0.05)
    g = torch.Generator().manual_seed(5)
    for _ in range(50):
        batch = x0[torch.randint(len(x0), (32,), generator=g)]
        plain.zero_grad()
        _, grad, _ = loss_and_gradient(ours, batch, "pixel")
        ours.centers.grad = grad
        plain.step()
        sgd.zero_grad()
        _autograd(theirs, batch, "pixel")
        sgd.step()
    assert torch.equal(ours.centers, theirs.centers)
    plain.zero_grad()
    assert ours.centers.grad is None
