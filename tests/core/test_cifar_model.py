"""The CIFAR network, its augmentation and its lookahead averaging."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from nnlab.core.augment import shift_flip
from nnlab.core.callbacks import Lookahead
from nnlab.core.models.cifar import CifarNet, Fp32BatchNorm, PatchWhitening, param_groups
from nnlab.core.train import TrainState


def test_network_shapes_and_parameter_groups():
    net = CifarNet((8, 16, 16))
    assert net(torch.randn(4, 3, 32, 32)).shape == (4, 10)
    shifts, weights = param_groups(net)
    assert len(shifts) == 6 and all(p.ndim == 1 for p in shifts)  # one BN shift per BN layer
    assert id(net.whiten.weight) not in map(id, shifts + weights) and all(p.requires_grad for p in shifts + weights)


def test_whitening_decorrelates_patches():
    torch.manual_seed(0)
    mix = torch.tensor([[1.0, 0.9, 0.8], [0.0, 0.4, 0.3], [0.0, 0.0, 0.2]])
    images = torch.einsum("dc,nchw->ndhw", mix, torch.randn(200, 3, 16, 16))  # correlated channels
    layer = PatchWhitening(3, 2, eps=1e-6)
    layer.fit(images)
    out = layer(images)[:, :12]  # (N, 12, 15, 15): one sign of each component
    features = out.permute(0, 2, 3, 1).reshape(-1, 12)
    cov = torch.cov(features.T)
    assert torch.allclose(cov, torch.eye(12), atol=0.05)


def test_batch_norm_statistics_in_float32_under_autocast():
    bn = Fp32BatchNorm(4)
    x = torch.randn(8, 4, 5, 5).to(torch.bfloat16)
    y = bn(x)
    assert y.dtype == torch.bfloat16 and bn.running_mean.dtype == torch.float32
    assert not bn.weight.requires_grad and bn.bias.requires_grad


def test_shift_flip_keeps_shape_and_repeats_with_the_seed():
    images = torch.randint(0, 256, (16, 3, 32, 32), dtype=torch.uint8)
    a = shift_flip(images, 2, True, torch.Generator().manual_seed(3))
    b = shift_flip(images, 2, True, torch.Generator().manual_seed(3))
    assert a.shape == images.shape and a.dtype == torch.uint8 and torch.equal(a, b)
    assert not torch.equal(a, images)
    assert torch.equal(shift_flip(images, 0, False), images)


def test_shift_flip_is_a_crop_of_the_reflect_padded_image():
    images = torch.randn(64, 2, 8, 8)
    out = shift_flip(images, 2, True, torch.Generator().manual_seed(0))
    padded = F.pad(images, (2, 2, 2, 2), mode="reflect")
    for i in range(64):
        crops = [padded[i, :, y:y + 8, x:x + 8] for y in range(5) for x in range(5)]
        assert any(torch.equal(out[i], c) or torch.equal(out[i], c.flip(-1)) for c in crops)
    flips = shift_flip(images, 0, True, torch.Generator().manual_seed(0))
    flipped = [torch.equal(flips[i], images[i].flip(-1)) for i in range(64)]
    assert all(f or torch.equal(flips[i], images[i]) for i, f in enumerate(flipped)) and 10 < sum(flipped) < 54


def test_lookahead_averages_and_hands_over_the_slow_weights():
    net = torch.nn.Linear(2, 1, bias=False)
    torch.nn.init.zeros_(net.weight)
    look = Lookahead(net, total_steps=10, every=5, peak_decay=0.5)
    state = TrainState(net, None)
    with torch.no_grad():
        for step in range(1, 11):
            net.weight.add_(1.0)  # an "SGD step"
            state.step = step
            look.on_step_end(state)
            if step == 5:
                # decay 0.5 * (5/10)^3 = 1/16: slow = 1/16 * 0 + 15/16 * 5
                assert net.weight[0, 0].item() == pytest.approx(5 * 15 / 16)
    # the last step hands over the slow copy, not the fast weights
    assert net.weight[0, 0].item() == pytest.approx(5 * 15 / 16)
