"""A 1-D optimizer lab: gradient descent, momentum and Adam on small loss functions.

Every step t records g_t, m_t, v_t, m̂_t, v̂_t and x_t, so the quantities of Adam's Algorithm 1
(Kingma & Ba) can be tabulated and plotted. ``escape`` answers the assignment's bump question.

The bump loss (question 1), with the start O at x = 0, a slope down to a local minimum at x = L,
then a bump of height h and width 2h whose far side keeps going down::

    f(x) = L - x                for x <  L          (slope -1: the descent from O)
    f(x) = h - |x - L - h|      for x >= L          (up at slope +1 to the peak (L+h, h), then down)

All slopes are ±1, so the gradient is -1 left of L, +1 on [L, L+h) and -1 from the peak on.
At a kink the gradient is the slope of the piece to the right (so g(L) = +1, g(L+h) = -1).
A run *crosses* the bump when some x_t >= L + h: past the peak the gradient points onward.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

__all__ = ["FUNCTIONS", "OPTIMIZERS", "LossFn", "Trace", "make_function", "simulate", "diverged", "crosses",
           "describe", "EscapeResult", "escape"]

Grad = Callable[[float], float]


@dataclass(frozen=True)
class LossFn:
    """A 1-D loss: its value ``f``, its (sub)gradient ``grad`` and a one-line ``formula``."""

    name: str
    f: Callable[[float], float]
    grad: Grad
    formula: str


def _sigmoid(x: float) -> float:
    # Split by sign so exp never overflows for large |x|.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def make_function(name: str, h: float = 0.5, L: float = 1.0) -> LossFn:
    """The named loss; ``h`` and ``L`` shape the bump. Gradients at kinks follow torch (0 at 0)."""
    if name == "relu":
        return LossFn(name, lambda x: max(0.0, x), lambda x: 1.0 if x > 0 else 0.0, "max(0, x)")
    if name == "sigmoid":
        return LossFn(name, _sigmoid, lambda x: _sigmoid(x) * (1.0 - _sigmoid(x)), "1 / (1 + e^-x)")
    if name == "abs":
        return LossFn(name, abs, lambda x: (x > 0) - (x < 0), "|x|")
    if name == "quadratic":
        return LossFn(name, lambda x: x * x, lambda x: 2.0 * x, "x^2")
    if name == "bump":
        if h < 0 or L <= 0:
            raise ValueError("bump needs h >= 0 and L > 0")

        def f(x: float) -> float:
            return L - x if x < L else h - abs(x - L - h)

        def grad(x: float) -> float:
            return -1.0 if x < L else (1.0 if x < L + h else -1.0)

        return LossFn(name, f, grad, f"L - x (x < L); h - |x - L - h| (x >= L), L={L:g}, h={h:g}")
    raise ValueError(f"unknown function {name!r}; choose from {', '.join(FUNCTIONS)}")


FUNCTIONS = ("relu", "sigmoid", "abs", "quadratic", "bump")
OPTIMIZERS = ("gd", "momentum", "adam")
_NAN = float("nan")
DIVERGED = 1e12  # |x| beyond this ends a run: these 1-D losses never need it, and plots stay legible


@dataclass
class Trace:
    """Per-step columns, index t-1 for step t. Unused moments are NaN (gd has no m or v)."""

    fn: str
    optimizer: str
    params: dict
    x0: float
    g: list[float] = field(default_factory=list)
    m: list[float] = field(default_factory=list)
    v: list[float] = field(default_factory=list)
    m_hat: list[float] = field(default_factory=list)
    v_hat: list[float] = field(default_factory=list)
    x: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)

    COLUMNS = ("g", "m", "v", "m_hat", "v_hat", "x", "loss")

    def rows(self) -> list[dict]:
        """One dict per step: t and the columns."""
        return [{"t": t + 1, **{c: getattr(self, c)[t] for c in self.COLUMNS}} for t in range(len(self.x))]


def _fma_exact(a: float, b: float, c: float) -> float:
    # a*b + c rounded once (Python < 3.13 has no math.fma); Fractions are exact.
    if not (math.isfinite(a) and math.isfinite(b) and math.isfinite(c)):
        return a * b + c  # a diverged run: inf and nan propagate as in torch
    try:
        return float(Fraction(a) * Fraction(b) + Fraction(c))
    except OverflowError:
        return a * b + c  # beyond the largest float: inf, as torch gives


_fma = getattr(math, "fma", _fma_exact)


def _lerp(start: float, end: float, weight: float) -> float:
    # torch.lerp's two fused formulas, so our m_t agrees with torch.optim.Adam to the last bit.
    if weight < 0.5:
        return _fma(weight, end - start, start)
    return _fma(-(1.0 - weight), end - start, end)


def simulate(fn: LossFn, optimizer: str = "adam", x0: float = 0.0, steps: int = 30, lr: float = 0.3,
             beta1: float = 0.9, beta2: float = 0.999, eps: float = 0.0) -> Trace:
    """Run ``steps`` updates from ``x0`` and record every quantity; stop early if x diverges.

    gd: x -= lr*g.  momentum (torch's SGD form): m = beta1*m + g; x -= lr*m.
    adam (Algorithm 1): m = beta1*m + (1-beta1)*g; v = beta2*v + (1-beta2)*g^2;
    m̂ = m/(1-beta1^t); v̂ = v/(1-beta2^t); x -= lr*m̂/(sqrt(v̂) + eps). The arithmetic follows
    torch's order and fused (single-rounding) ops, so all three equal torch.optim's bit for bit.
    With eps = 0 and every gradient so far 0, the step is defined as 0 (torch: NaN).
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose from {', '.join(OPTIMIZERS)}")
    if steps < 0 or not (0 <= beta1 < 1 and 0 <= beta2 < 1) or eps < 0:
        raise ValueError("need steps >= 0, 0 <= beta1, beta2 < 1 and eps >= 0")
    params = {"lr": lr} if optimizer == "gd" else {"lr": lr, "beta1": beta1}
    if optimizer == "adam":
        params.update(beta2=beta2, eps=eps)
    tr = Trace(fn.name, optimizer, params, x0)
    x, m, v = x0, 0.0, 0.0
    for t in range(1, steps + 1):
        g = float(fn.grad(x))
        m_hat = v_hat = _NAN
        if optimizer == "gd":
            x = _fma(-lr, g, x)  # torch's add_(g, alpha=-lr) rounds once
            m = v = _NAN
        elif optimizer == "momentum":
            m = g if t == 1 else beta1 * m + g  # torch seeds the buffer with the first gradient
            x = _fma(-lr, m, x)
        else:
            m = _lerp(m, g, 1 - beta1)
            v = _fma((1 - beta2) * g, g, v * beta2)  # torch's addcmul, fused
            bc1, bc2 = 1 - beta1 ** t, 1 - beta2 ** t
            m_hat, v_hat = m / bc1, v / bc2
            denom = math.sqrt(v) / bc2 ** 0.5 + eps
            if denom > 0:
                x = x + (-(lr / bc1) * m) / denom
        for col, val in zip(Trace.COLUMNS, (g, m, v, m_hat, v_hat, x, fn.f(x))):
            getattr(tr, col).append(val)
        if not abs(x) <= DIVERGED:
            break  # diverged: later steps only overflow to inf and nan
    return tr


def diverged(trace: Trace) -> bool:
    """True when the run stopped early because |x| passed ``DIVERGED`` (or became nan)."""
    return bool(trace.x) and not abs(trace.x[-1]) <= DIVERGED


def crosses(trace: Trace, L: float, h: float) -> bool:
    """True when the run reached the bump's peak (x >= L + h) at some step."""
    return any(x >= L + h for x in trace.x)


def describe(trace: Trace, L: float, h: float) -> str:
    """A one-line account of a bump run: crossed, settled, oscillating, or wandering."""
    if crosses(trace, L, h):
        t = next(i for i, x in enumerate(trace.x, 1) if x >= L + h)
        return f"crosses the bump at step {t} (x = {trace.x[t - 1]:.6g} >= L + h = {L + h:.6g})"
    tail = trace.x[-min(12, max(2, len(trace.x) // 2)):]  # the later steps: where the run ends up
    values = sorted({round(x, 9) for x in tail})
    where = f"the local minimum at x = L = {L:g}"
    if len(values) == 1:
        return f"settles at x = {values[0]:.4g} and never crosses the bump"
    if len(values) == 2:
        return (f"is trapped: it oscillates between x = {values[0]:.4g} and x = {values[1]:.4g} "
                f"around {where}, never reaching the peak at x = {L + h:g}")
    return (f"never crosses: the last steps stay in [{min(tail):.4g}, {max(tail):.4g}] near {where} "
            f"(peak at x = {L + h:g})")


@dataclass(frozen=True)
class EscapeResult:
    """The bisection's answer: the boundary height and its 2-decimal forms."""

    h_boundary: float      # sup of the heights Adam crosses (to the bisection's tolerance)
    h_largest_2dp: float   # the largest height with 2 decimals that still crosses
    h_rounded: float       # h_boundary rounded to 2 decimals, as the assignment asks
    iterations: int
    evaluations: list[tuple[float, bool]]  # (h, crossed) in the order tried


def escape(L: float = 1.0, lr: float = 0.3, beta1: float = 0.9, beta2: float = 0.999,
           eps: float = 0.0, x0: float = 0.0, steps: int = 500, tol: float = 1e-9) -> EscapeResult:
    """Bisection on h for the largest bump Adam still crosses from ``x0``.

    Crossing is monotone in h: below the peak the bump's slope does not depend on h, so the
    climb is the same run for every h and only the peak's position moves.
    """
    def crossed(h: float) -> bool:
        return crosses(simulate(make_function("bump", h, L), "adam", x0, steps, lr, beta1, beta2, eps), L, h)

    tried: list[tuple[float, bool]] = []
    lo, hi = 0.0, 1.0
    while crossed(hi):
        tried.append((hi, True))
        lo, hi = hi, hi * 2
        if hi > 1e6:
            raise ValueError("Adam crosses every bump up to 1e6; no boundary to find")
    tried.append((hi, False))
    n = 0
    while hi - lo > tol:
        mid = (lo + hi) / 2
        ok = crossed(mid)
        tried.append((mid, ok))
        lo, hi = (mid, hi) if ok else (lo, mid)
        n += 1
    largest = math.floor(lo * 100 + 1e-9) / 100
    while largest > 0 and not crossed(largest):  # guard the floor against float noise
        largest = round(largest - 0.01, 2)
    return EscapeResult(lo, largest, round(lo, 2), n, tried)
