"""What `nnlab backprop` shows: the forward pass, the cost, each layer's error and gradients, autograd's verdict."""

from __future__ import annotations

import math
import re

import numpy as np

from nnlab.experiments.backprop.check import Agreement
from nnlab.experiments.backprop.hand import Trace
from nnlab.experiments.backprop.network import Network
from nnlab.runs.recorder import Recorder

DIGITS = 9  # enough to check a hand calculation digit by digit (0.298371109)
INDEX_NOTE = "j, k as in the file's weights\\[j]\\[k] (0-based: k an input, j a neuron)"  # \\[: not Rich markup


def literal(text: str) -> str:
    """`text` shown as written: every [ escaped (backslashes before it doubled), so no markup applies."""
    return re.sub(r"(\\*)\[", lambda m: m.group(1) * 2 + "\\[", text)


def num(value: float) -> str:
    """A number as the tables show it."""
    return f"{value:.{DIGITS}g}"


def describe(net: Network) -> str:
    """`2 → 2 sigmoid → 2 sigmoid`, the shape of the network in one line."""
    return " → ".join([str(len(net.input))] + [f"{len(layer.biases)} {layer.activation}" for layer in net.layers])


def report_forward(recorder: Recorder, net: Network, trace: Trace) -> None:
    """z and a of every neuron, then the cost."""
    rows = [[f"layers[{i}] (l={layer.l})", j, num(layer.z[j]), num(layer.a[j])]
            for i, layer in enumerate(trace.layers) for j in range(len(layer.z))]
    recorder.info("forward pass: z^l = w^l a^(l-1) + b^l and a^l = σ(z^l); Nielsen's numbering: "
                  "the input is layer 1, so layers[0] is l = 2")
    recorder.table("forward pass", ["layer", "j", "z_j", "a_j"], rows)
    target = ", ".join(num(v) for v in net.target)
    recorder.info(f"cost ({net.cost}): {literal(trace.cost_equation)} = [bold]{num(trace.cost)}[/]   "
                  f"(y = {literal(f'[{target}]')})")


def report_backward(recorder: Recorder, net: Network, trace: Trace) -> None:
    """Each layer, last first: the equation for δ, then δ, ∂C/∂b, ∂C/∂w and the stepped values."""
    eta = net.learning_rate
    inputs = [net.input] + [layer.a for layer in trace.layers[:-1]]
    for i in range(len(trace.layers) - 1, -1, -1):
        layer, original = trace.layers[i], net.layers[i]
        recorder.info(f"\n[bold]layers\\[{i}] (l={layer.l}, {layer.activation})[/]  {literal(layer.equation)}")
        slope = "σ'(z_j)" if layer.derivative is not None else "—"
        rows = [[j, num(layer.derivative[j]) if layer.derivative is not None else "(Jacobian)",
                 num(layer.delta[j]), num(original.biases[j]), num(layer.new_biases[j])]
                for j in range(len(layer.delta))]
        recorder.table(f"δ^{layer.l} and biases (BP3)",
                       ["j", slope, "δ_j = ∂C/∂b_j", "b_j", f"b_j - {num(eta)} δ_j"], rows)
        rows = [[j, k, num(original.weights[j, k]), num(inputs[i][k]), num(layer.grad_weights[j, k]),
                 num(layer.new_weights[j, k])]
                for j in range(len(layer.delta)) for k in range(len(inputs[i]))]
        columns = ["j", "k", "w_jk", f"a^{layer.l - 1}_k", f"∂C/∂w_jk = a^{layer.l - 1}_k δ_j",
                   f"w_jk - {num(eta)} ∂C/∂w_jk"]
        recorder.table(f"weights w^{layer.l} (BP4)", columns, rows, caption=INDEX_NOTE)


def report_agreement(recorder: Recorder, agreement: Agreement) -> None:
    """The largest difference from autograd, per quantity and overall."""
    rows = [[name, f"{diff:.2e}"] for name, diff in agreement.per_quantity.items()]
    recorder.info("\nthe same pass through torch autograd (float64); its δ^l is ∂C/∂z^l, read with retain_grad")
    recorder.table("hand vs autograd", ["quantity", "max |difference|"], rows)
    where = f" (at {agreement.worst})" if agreement.max_abs_diff > 0 else ""
    if agreement.agrees:
        recorder.info(f"[green]autograd agrees with every number[/]: largest difference "
                      f"{agreement.max_abs_diff:.2e}{where}")
    else:
        recorder.info(f"[red]autograd disagrees[/]: largest difference {agreement.max_abs_diff:.3g}{where}")


def to_json(net: Network, trace: Trace, agreement: Agreement) -> dict:
    """The --json result: the cost and, per layer, z, a, delta, the gradients and the stepped values."""
    def plain(values: np.ndarray) -> list:
        return values.tolist()

    return {"cost": trace.cost, "cost_name": net.cost, "cost_equation": trace.cost_equation,
            "learning_rate": net.learning_rate,
            "layers": [{"l": layer.l, "activation": layer.activation, "equation": layer.equation,
                        "z": plain(layer.z), "a": plain(layer.a),
                        "sigma_prime": None if layer.derivative is None else plain(layer.derivative),
                        "delta": plain(layer.delta), "grad_weights": plain(layer.grad_weights),
                        "grad_biases": plain(layer.grad_biases), "new_weights": plain(layer.new_weights),
                        "new_biases": plain(layer.new_biases)} for layer in trace.layers],
            "autograd": {"agrees": agreement.agrees, "max_abs_diff": _finite_or_none(agreement.max_abs_diff),
                         "worst": agreement.worst,
                         "per_quantity": {k: _finite_or_none(v) for k, v in agreement.per_quantity.items()}}}


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None  # JSON has no Infinity
