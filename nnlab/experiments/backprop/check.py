"""The same pass through torch autograd, number for number against the hand computation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnlab.experiments.backprop.hand import Trace
from nnlab.experiments.backprop.network import Network

QUANTITIES = ("z", "a", "delta", "grad_weights", "grad_biases", "new_weights", "new_biases")
RELATIVE_TOLERANCE = 1e-9  # both sides are float64: ~1e-16 of rounding, so 1e-9 only trips on a real error


@dataclass(frozen=True)
class Agreement:
    """The largest |hand - autograd| over every number, and per quantity."""

    max_abs_diff: float
    per_quantity: dict[str, float]  # quantity -> largest difference over the layers (and "cost")
    worst: str  # where the largest difference is, e.g. "layers[1].delta"
    scale: float  # the largest |number| autograd produced

    @property
    def agrees(self) -> bool:
        """Every difference within RELATIVE_TOLERANCE of the numbers' scale."""
        return self.max_abs_diff <= RELATIVE_TOLERANCE * (1.0 + self.scale)


def _torch_activation(name: str, z):
    import torch

    if name == "sigmoid":
        return torch.sigmoid(z)
    if name == "tanh":
        return torch.tanh(z)
    if name == "relu":
        return torch.relu(z)
    if name == "softmax":
        return torch.softmax(z, dim=0)
    return z


def _torch_cost(cost: str, activation: str, z, a, y):
    import torch
    import torch.nn.functional as F

    if cost == "quadratic":
        return 0.5 * ((a - y) ** 2).sum()
    if cost == "log-likelihood":
        return -torch.log_softmax(z, dim=0)[int(torch.argmax(y))]
    if activation == "sigmoid":
        return -(y * F.logsigmoid(z) + (1 - y) * F.logsigmoid(-z)).sum()
    # softmax: ln(1 - a_j) = logsumexp of the other z_k - logsumexp(z), as the hand pass takes it
    n = len(z)
    others = z.expand(n, n).masked_fill(torch.eye(n, dtype=torch.bool), float("-inf"))
    log_1ma = torch.logsumexp(others, dim=1) - torch.logsumexp(z, dim=0)
    return -(y * torch.log_softmax(z, dim=0) + (1 - y) * log_1ma).sum()


def autograd_trace(net: Network) -> dict:
    """z, a, δ = ∂C/∂z (via retain_grad), ∂C/∂w, ∂C/∂b and the stepped parameters, from autograd."""
    import torch

    weights = [torch.tensor(layer.weights, dtype=torch.float64, requires_grad=True) for layer in net.layers]
    biases = [torch.tensor(layer.biases, dtype=torch.float64, requires_grad=True) for layer in net.layers]
    a = torch.tensor(net.input, dtype=torch.float64)
    y = torch.tensor(net.target, dtype=torch.float64)
    zs, activations = [], []
    for layer, w, b in zip(net.layers, weights, biases):
        z = w @ a + b
        z.retain_grad()  # ∂C/∂z^l is δ^l by definition
        a = _torch_activation(layer.activation, z)
        zs.append(z)
        activations.append(a)
    cost = _torch_cost(net.cost, net.layers[-1].activation, zs[-1], activations[-1], y)
    cost.backward()
    lr = net.learning_rate
    return {"cost": float(cost.detach()),
            "layers": [{"z": z.detach().numpy(), "a": act.detach().numpy(), "delta": z.grad.numpy(),
                        "grad_weights": w.grad.numpy(), "grad_biases": b.grad.numpy(),
                        "new_weights": (w - lr * w.grad).detach().numpy(),
                        "new_biases": (b - lr * b.grad).detach().numpy()}
                       for z, act, w, b in zip(zs, activations, weights, biases)]}


def compare(trace: Trace, reference: dict) -> Agreement:
    """Every number of the hand trace against autograd's."""
    per = {"cost": abs(trace.cost - reference["cost"])}
    worst, where = per["cost"], "cost"
    scale = abs(reference["cost"])
    for i, (mine, theirs) in enumerate(zip(trace.layers, reference["layers"])):
        for name in QUANTITIES:
            diff = float(np.max(np.abs(getattr(mine, name) - theirs[name])))
            scale = max(scale, float(np.max(np.abs(theirs[name]))))
            if not np.isfinite(diff):
                diff = float("inf")
            per[name] = max(per.get(name, 0.0), diff)
            if diff > worst:
                worst, where = diff, f"layers[{i}].{name}"
    return Agreement(worst, per, where, scale)
