"""One forward and one backward pass by hand, in float64 numpy, with the equation used at each step.

Nielsen's notation (Neural Networks and Deep Learning, ch. 2): the input is layer 1, so the file's
layers[i] is layer l = i + 2, and L is the last layer. z^l = w^l a^{l-1} + b^l, a^l = σ(z^l).

    BP1  δ^L = ∇_a C ⊙ σ'(z^L)                 the output error
    BP2  δ^l = ((w^{l+1})^T δ^{l+1}) ⊙ σ'(z^l)  the error one layer back
    BP3  ∂C/∂b^l_j = δ^l_j
    BP4  ∂C/∂w^l_jk = a^{l-1}_k δ^l_j

Softmax couples its outputs, so BP1 becomes δ^L = J^T ∇_a C with J_jk = ∂a_j/∂z_k = a_j(1[j=k] - a_k);
with the log-likelihood cost that collapses to δ^L = a^L - y (Nielsen ch. 3), as it does for a
sigmoid output with the cross-entropy cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, log_expit, logsumexp

from nnlab.errors import NnlabError
from nnlab.experiments.backprop.network import Network

# σ'(z) in words, for the equations shown
DERIVATIVE_TEXT = {
    "sigmoid": "σ'(z) = σ(z)(1 - σ(z))",
    "linear": "σ'(z) = 1",
    "relu": "σ'(z) = 1 if z > 0 else 0",
    "tanh": "σ'(z) = 1 - tanh²(z)",
}
GRADIENT_TEXT = {
    "quadratic": "∇_a C = a - y",
    "cross-entropy": "∇_a C = (a - y)/(a(1 - a))",
}
COST_TEXT = {
    "quadratic": "C = ½ Σ_j (a^L_j - y_j)²",
    "cross-entropy": "C = -Σ_j [y_j ln a^L_j + (1 - y_j) ln(1 - a^L_j)]",
    "log-likelihood": "C = -ln a^L_y (y: the target's class)",
}


@dataclass(frozen=True)
class LayerTrace:
    """Everything one layer computed, forward and backward, and the equation that gave δ."""

    l: int  # Nielsen's layer number (2 for the first weight layer)
    activation: str
    z: np.ndarray
    a: np.ndarray
    derivative: np.ndarray | None  # σ'(z^l) element-wise; None for softmax (a Jacobian)
    delta: np.ndarray
    equation: str  # which of BP1/BP2 and the form it took here
    grad_weights: np.ndarray  # BP4: outer(δ^l, a^{l-1})
    grad_biases: np.ndarray  # BP3: δ^l
    new_weights: np.ndarray  # w - η ∂C/∂w
    new_biases: np.ndarray


@dataclass(frozen=True)
class Trace:
    """The whole pass: the cost and one LayerTrace per layer, first to last."""

    cost: float
    cost_equation: str
    layers: tuple[LayerTrace, ...]


# ---- activations ------------------------------------------------------------------------

def activate(name: str, z: np.ndarray) -> np.ndarray:
    """a = σ(z) for the named activation."""
    if name == "sigmoid":
        return expit(z)  # never overflows exp(-z)
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "linear":
        return z.copy()
    shifted = np.exp(z - z.max())  # softmax; the shift keeps exp finite and changes nothing
    return shifted / shifted.sum()


def derivative(name: str, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """σ'(z) element-wise (not for softmax); relu'(0) is taken as 0, as torch does."""
    if name == "sigmoid":
        return a * (1.0 - a)
    if name == "tanh":
        return 1.0 - a * a
    if name == "relu":
        return (z > 0).astype(np.float64)
    return np.ones_like(z)


def softmax_log_complement(z: np.ndarray) -> np.ndarray:
    """ln(1 - a_j) for a = softmax(z), as logsumexp of the other z_k minus logsumexp(z):
    1 - a_j computed as a difference would lose every digit when a_j is within 1e-16 of 1."""
    others = np.where(np.eye(len(z), dtype=bool), -np.inf, z[None, :])  # row j: z without z_j
    return logsumexp(others, axis=1) - logsumexp(z)


# ---- cost -------------------------------------------------------------------------------

def cost_value(cost: str, activation: str, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> float:
    """The cost of one example; logs come from z where they can, so saturation stays finite."""
    if cost == "quadratic":
        return float(0.5 * np.sum((a - y) ** 2))
    if activation == "softmax":
        log_a = z - logsumexp(z)
        if cost == "log-likelihood":
            return float(-log_a[int(np.argmax(y))])
        log_1ma = softmax_log_complement(z)
    else:  # sigmoid: ln σ(z) and ln(1 - σ(z)) = ln σ(-z)
        log_a, log_1ma = log_expit(z), log_expit(-z)
    return float(-np.sum(y * log_a + (1.0 - y) * log_1ma))


def cost_gradient(cost: str, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """∇_a C for an element-wise output layer (quadratic or cross-entropy)."""
    if cost == "quadratic":
        return a - y
    return (a - y) / (a * (1.0 - a))  # cross-entropy


def _softmax_error(cost: str, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """δ^L = J^T ∇_a C = a ⊙ g - a (a · g) with g = ∇_a C (J is symmetric)."""
    if cost == "quadratic":
        a_g = a * (a - y)
        return a_g - a * a_g.sum()
    # cross-entropy: a_j g_j = h_j = (a_j - y_j)/(1 - a_j), so δ_k = (a_k - y_k) - a_k Σ_{j≠k} h_j;
    # forming h_k(1 - a_k) as a difference would lose every digit when a_k is within 1e-16 of 1
    h = (a - y) / np.exp(softmax_log_complement(z))
    others = np.where(np.eye(len(z), dtype=bool), 0.0, h[None, :]).sum(axis=1)  # row k: Σ_{j≠k} h_j
    return (a - y) - a * others


def output_error(cost: str, activation: str, z: np.ndarray, a: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, str]:
    """δ^L and the form of BP1 it took."""
    if activation == "softmax" and cost == "log-likelihood":
        return a - y, "δ^L = a^L - y  (softmax with log-likelihood: BP1 with the softmax Jacobian collapses)"
    if activation == "sigmoid" and cost == "cross-entropy":
        return a - y, ("δ^L = a^L - y  (BP1 with cross-entropy: ∇_a C = (a - y)/(a(1 - a)) "
                       "cancels σ'(z) = a(1 - a))")
    if activation == "softmax":
        return _softmax_error(cost, z, a, y), ("δ^L = J^T ∇_a C, J_jk = a_j(1[j=k] - a_k)  "
                                                   f"(BP1 for softmax, {cost} cost)")
    grad = cost_gradient(cost, a, y)
    d = derivative(activation, z, a)
    if activation == "linear":  # only quadratic reaches here: cross-entropy needs outputs in (0, 1)
        return grad * d, (f"δ^L = ∇_a C ⊙ σ'(z^L) = a^L - y  (BP1, linear: {DERIVATIVE_TEXT['linear']}, "
                          f"{GRADIENT_TEXT[cost]})")
    return grad * d, f"δ^L = ∇_a C ⊙ σ'(z^L)  (BP1, {GRADIENT_TEXT[cost]}, {DERIVATIVE_TEXT[activation]})"


def hidden_error(activation: str, l: int, d: np.ndarray, w_next: np.ndarray,
                 delta_next: np.ndarray) -> tuple[np.ndarray, str]:
    """δ^l from the layer above (BP2) and the form it took."""
    back = w_next.T @ delta_next  # (n_l, n_{l+1}) @ (n_{l+1},) -> (n_l,)
    if activation == "linear":
        return back * d, f"δ^{l} = (w^{l + 1})^T δ^{l + 1}  (BP2, linear: {DERIVATIVE_TEXT['linear']})"
    return back * d, f"δ^{l} = ((w^{l + 1})^T δ^{l + 1}) ⊙ σ'(z^{l})  (BP2, {DERIVATIVE_TEXT[activation]})"


# ---- the pass ---------------------------------------------------------------------------

def backprop(net: Network) -> Trace:
    """Forward, cost, backward (BP1-BP4) and one gradient step, every number kept."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # checked: see _finite
        return _backprop(net)


def _backprop(net: Network) -> Trace:
    zs, activations = [], [net.input]
    for i, layer in enumerate(net.layers):
        z = layer.weights @ activations[-1] + layer.biases  # (n_out, n_in) @ (n_in,) -> (n_out,)
        a = activate(layer.activation, z)
        _finite(z, f"z^{i + 2}")
        zs.append(z)
        activations.append(a)
    last = net.layers[-1]
    cost = cost_value(net.cost, last.activation, zs[-1], activations[-1], net.target)
    _finite(np.array([cost]), "the cost")

    n = len(net.layers)
    deltas: list[np.ndarray] = [np.empty(0)] * n
    equations = [""] * n
    derivs: list[np.ndarray | None] = [None] * n
    deltas[-1], equations[-1] = output_error(net.cost, last.activation, zs[-1], activations[-1], net.target)
    if last.activation != "softmax":
        derivs[-1] = derivative(last.activation, zs[-1], activations[-1])
    for i in range(n - 2, -1, -1):
        layer = net.layers[i]
        derivs[i] = derivative(layer.activation, zs[i], activations[i + 1])
        deltas[i], equations[i] = hidden_error(layer.activation, i + 2, derivs[i], net.layers[i + 1].weights,
                                               deltas[i + 1])
    traces = []
    for i, layer in enumerate(net.layers):
        _finite(deltas[i], f"δ^{i + 2}")
        grad_w = np.outer(deltas[i], activations[i])  # BP4: (n_out,) x (n_in,) -> (n_out, n_in)
        grad_b = deltas[i].copy()  # BP3
        traces.append(LayerTrace(i + 2, layer.activation, zs[i], activations[i + 1], derivs[i], deltas[i],
                                 equations[i], grad_w, grad_b, layer.weights - net.learning_rate * grad_w,
                                 layer.biases - net.learning_rate * grad_b))
    return Trace(cost, COST_TEXT[net.cost], tuple(traces))


def _finite(values: np.ndarray, what: str) -> None:
    if not np.isfinite(values).all():
        raise NnlabError(f"{what} is not finite: the outputs saturate (a = 0 or 1 exactly); "
                         "use smaller weights or inputs")
