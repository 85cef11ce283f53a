"""Settings of `nnlab backprop NET.json`, each declared once (no torch here)."""

from __future__ import annotations

from dataclasses import dataclass

from nnlab.experiments.base import Config, option

MAX_ABS = 1e6  # larger weights or rates only overflow exp(); nothing pedagogical lives there


@dataclass(frozen=True, kw_only=True)
class BackpropConfig(Config):
    """One forward and one backward pass of a small network, by hand, with every number shown.

    Reads the network from JSON (`weights\\[j]\\[k]` is the weight from input k to neuron j; see
    docs/backprop_*.json), then prints each layer's z and a, the cost, the error δ^l with the
    equation used (BP1-BP4, Nielsen's notation), every ∂C/∂w and ∂C/∂b, and the weights after one
    gradient step. torch autograd recomputes every number; the largest difference is printed.
    Activations: sigmoid, linear, relu, tanh, softmax (last layer). Costs: quadratic,
    cross-entropy, log-likelihood (softmax). Exit code 1 if autograd disagrees.
    """

    network: str = option(help="The network file (JSON: layers, input, target, cost, learning_rate).",
                          argument=True, path=True)
    lr: float | None = option(None, "Learning rate η for the step, instead of the file's learning_rate.",
                              min=0, min_open=True, max=MAX_ABS, default_text="the file's")
