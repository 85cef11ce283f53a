"""η* from the bias-variance balance, checked against an independent polynomial solution."""

from __future__ import annotations

import numpy as np
import pytest

from nnlab.tools.eta import balanced_eta, bias_squared, variance


def _eta_by_cubic(b: int) -> float:
    # ((1−α)/α)² = α/(b(2−α))  <=>  b(1−α)²(2−α) − α³ = 0, a cubic in α with one root in (0, 1)
    coeffs = np.polynomial.polynomial.polymul([2, -1], np.polynomial.polynomial.polymul([1, -1], [1, -1])) * b
    coeffs = np.polynomial.polynomial.polysub(coeffs, [0, 0, 0, 1])
    roots = [r.real for r in np.polynomial.polynomial.polyroots(coeffs) if abs(r.imag) < 1e-9 and 0 < r.real < 1]
    assert len(roots) == 1
    return 5 * roots[0]


@pytest.mark.parametrize("b", [1, 2, 8, 64, 1000, 60000])
def test_balanced_eta_matches_the_cubic(b):
    assert balanced_eta(b) == pytest.approx(_eta_by_cubic(b), abs=1e-8)
    eta = balanced_eta(b)
    assert bias_squared(eta) == pytest.approx(variance(eta, b), rel=1e-6)


def test_the_assignment_choice_and_limits():
    assert balanced_eta(64) == pytest.approx(4.5, abs=0.02)  # the homework's η = 4.5
    assert balanced_eta(60000) > 4.95  # full batch: Lloyd, η → 5
    assert 2.5 < balanced_eta(1) < 3.2  # "even at b = 1, η shouldn't go below about 3"
    etas = [balanced_eta(b) for b in (1, 4, 16, 64, 256)]
    assert etas == sorted(etas)
