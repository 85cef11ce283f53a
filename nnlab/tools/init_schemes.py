"""Weight initialisation schemes for fully connected layers, and the variance each predicts.

A layer z = W x + b with n = fan_in inputs; each scheme draws W (and b) independently:

    he       N(0, 2/n)                      keeps Var[z] constant through ReLU layers
    xavier   N(0, 2/(n_in + n_out))         Glorot & Bengio: the mean of forward and backward
    lecun    N(0, 1/n)                      keeps Var[z] constant through linear (tanh near 0) layers
    default  U(-1/√n, 1/√n) for W and b     PyTorch's nn.Linear: kaiming_uniform(a=√5), var 1/(3n)
    std      N(0, std²)                     the user's choice

The mean-field recursion (Poole et al. 2016) predicts Var[z^l] layer by layer for a wide net:
Var[z^l] = n Var[w] E[x_l²] + Var[b], where x_l = φ(z^{l-1}) with z^{l-1} ~ N(0, Var[z^{l-1}]).
For ReLU, E[x_l²] = Var[z^{l-1}]/2 exactly (half of a symmetric distribution's second moment);
for tanh it is a Gaussian integral, taken here by adaptive quadrature.
"""

from __future__ import annotations

import math

SCHEMES = ("he", "xavier", "lecun", "default", "std")
ACTIVATIONS = ("relu", "tanh")


def weight_variance(scheme: str, fan_in: int, fan_out: int, std: float | None = None) -> float:
    """Var[w] of `scheme` for a layer with `fan_in` inputs and `fan_out` outputs."""
    if scheme == "he":
        return 2.0 / fan_in
    if scheme == "xavier":
        return 2.0 / (fan_in + fan_out)
    if scheme == "lecun":
        return 1.0 / fan_in
    if scheme == "default":
        return 1.0 / (3.0 * fan_in)  # U(-a, a) has variance a²/3, with a = 1/√fan_in
    if scheme == "std":
        if std is None:
            raise ValueError("the std scheme needs a std")
        return std * std
    raise ValueError(f"unknown scheme {scheme!r}")


def bias_variance(scheme: str, fan_in: int) -> float:
    """Var[b]: PyTorch's default draws biases like its weights; the others start them at 0."""
    return 1.0 / (3.0 * fan_in) if scheme == "default" else 0.0


def init_linear_(layer, scheme: str, std: float | None = None, generator=None) -> None:
    """Initialise a torch nn.Linear in place by `scheme`, drawing from `generator` (reproducible)."""
    import torch

    fan_out, fan_in = layer.weight.shape
    with torch.no_grad():
        if scheme == "default":
            bound = 1.0 / math.sqrt(fan_in)
            layer.weight.uniform_(-bound, bound, generator=generator)
            if layer.bias is not None:
                layer.bias.uniform_(-bound, bound, generator=generator)
            return
        layer.weight.normal_(0.0, math.sqrt(weight_variance(scheme, fan_in, fan_out, std)), generator=generator)
        if layer.bias is not None:
            layer.bias.zero_()


def activation_second_moment(activation: str, variance: float) -> float:
    """E[φ(z)²] for z ~ N(0, variance)."""
    if activation == "relu":
        return variance / 2.0
    if activation == "tanh":
        from scipy.integrate import quad

        scale = math.sqrt(variance)
        # ∫ tanh(√v u)² φ(u) du over the standard normal u; even, so twice the half line
        value, _ = quad(lambda u: math.tanh(scale * u) ** 2 * math.exp(-u * u / 2), 0.0, math.inf)
        return 2.0 * value / math.sqrt(2.0 * math.pi)
    raise ValueError(f"unknown activation {activation!r}")


def theory_variances(activation: str, depth: int, width: int, w_var: float, b_var: float,
                     input_second_moment: float = 1.0) -> list[float]:
    """Var[z^l] for l = 1..depth by the mean-field recursion, for inputs with E[x_1²] given."""
    variances = [width * w_var * input_second_moment + b_var]
    for _ in range(depth - 1):
        variances.append(width * w_var * activation_second_moment(activation, variances[-1]) + b_var)
    return variances
