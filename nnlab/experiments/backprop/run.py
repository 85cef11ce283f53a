"""`nnlab backprop NET.json`: one forward and backward pass by hand, checked by autograd.

The network file is read and checked in preflight, so a bad file is one line and exit 2 with
no run left behind. The run keeps the checked network (network.json) and every number
(trace.json, the --json result).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from nnlab.experiments.backprop.check import autograd_trace, compare
from nnlab.experiments.backprop.config import BackpropConfig
from nnlab.experiments.backprop.hand import backprop
from nnlab.experiments.backprop.network import load_network
from nnlab.experiments.backprop.report import (describe, literal, report_agreement, report_backward,
                                               report_forward, to_json)
from nnlab.experiments.base import Setup, prepare
from nnlab.runs.recorder import Recorder
from nnlab.runs.store import RunStore


def preflight(config: BackpropConfig, store: RunStore | None = None) -> Setup:
    """Read and check the network file (and apply --lr) before any run exists."""
    net = load_network(config.network)
    if config.lr is not None:
        net = replace(net, learning_rate=config.lr)
    return Setup(replace(config, network=str(Path(config.network).resolve())), extras={"network": net})


def run(config: BackpropConfig, recorder: Recorder, setup: Setup | None = None) -> dict:
    """Forward, cost, backward and one step by hand; autograd recomputes all of it."""
    setup = prepare(config, recorder, setup, preflight)
    net = setup.extras["network"]
    recorder.save_json("network.json", net.to_json())
    recorder.info(f"network {describe(net)}, {net.cost} cost, η = {net.learning_rate:g}")
    if net.description:
        recorder.info(literal(net.description))
    trace = backprop(net)
    agreement = compare(trace, autograd_trace(net))
    report_forward(recorder, net, trace)
    report_backward(recorder, net, trace)
    report_agreement(recorder, agreement)
    result = to_json(net, trace, agreement)
    recorder.save_json("trace.json", result)
    recorder.summary({"cost": trace.cost, "autograd_max_abs_diff": result["autograd"]["max_abs_diff"],
                      "autograd_agrees": agreement.agrees})
    return result


def verdict(result: dict) -> str | None:
    """Exit code 1 when autograd disagrees: the hand computation has a bug."""
    check = result["autograd"]
    if check["agrees"]:
        return None
    return f"backprop: the hand computation differs from autograd by {check['max_abs_diff']} at {check['worst']}"
