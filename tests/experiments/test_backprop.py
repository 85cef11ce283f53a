"""Backprop by hand: the classic worked example, random networks against autograd, and bad files."""

from __future__ import annotations

import copy
import json
import os
import zlib

import numpy as np
import pytest

from nnlab.errors import NnlabError
from nnlab.experiments.backprop.check import autograd_trace, compare
from nnlab.experiments.backprop.hand import backprop
from nnlab.experiments.backprop.network import MAX_FILE_BYTES, MAX_UNITS, load_network, parse_network

# the 2-2-2 sigmoid network of Matt Mazur's "A Step by Step Backpropagation Example"
CLASSIC = {"layers": [{"weights": [[0.15, 0.20], [0.25, 0.30]], "biases": [0.35, 0.35], "activation": "sigmoid"},
                      {"weights": [[0.40, 0.45], [0.50, 0.55]], "biases": [0.60, 0.60], "activation": "sigmoid"}],
           "input": [0.05, 0.10], "target": [0.01, 0.99], "cost": "quadratic", "learning_rate": 0.5}


def test_classic_example_matches_the_published_numbers():
    trace = backprop(parse_network(CLASSIC))
    assert trace.cost == pytest.approx(0.298371109, abs=1e-9)
    hidden, out = trace.layers
    assert hidden.a == pytest.approx([0.593269992, 0.596884378], abs=1e-9)
    assert out.a == pytest.approx([0.75136507, 0.772928465], abs=1e-8)
    # w5..w8 after one step with η = 0.5 (w5: h1 -> o1 is layers[1].weights[0][0])
    assert out.new_weights.ravel() == pytest.approx([0.35891648, 0.408666186, 0.511301270, 0.561370121], abs=1e-8)
    # w1..w4, computed with the original w5..w8 as BP2 says
    assert hidden.new_weights.ravel() == pytest.approx([0.149780716, 0.19956143, 0.24975114, 0.29950229], abs=1e-8)
    assert hidden.equation.startswith("δ^2 = ((w^3)^T δ^3) ⊙ σ'(z^2)") and out.equation.startswith("δ^L = ∇_a C ⊙")


def test_bp3_bp4_and_the_step_follow_from_delta():
    net = parse_network(CLASSIC)
    trace = backprop(net)
    inputs = [net.input, trace.layers[0].a]
    for layer, a_prev, original in zip(trace.layers, inputs, net.layers):
        assert np.array_equal(layer.grad_biases, layer.delta)
        assert np.allclose(layer.grad_weights, layer.delta[:, None] * a_prev[None, :], rtol=0, atol=1e-15)
        assert np.allclose(layer.new_weights, original.weights - 0.5 * layer.grad_weights, rtol=0, atol=1e-15)


def _random_net(rng, sizes, activations, cost):
    layers = [{"weights": rng.normal(0, 1, (n_out, n_in)).tolist(), "biases": rng.normal(0, 0.5, n_out).tolist(),
               "activation": act} for n_in, n_out, act in zip(sizes[:-1], sizes[1:], activations)]
    n_last = sizes[-1]
    if cost == "log-likelihood":
        target = np.eye(n_last)[rng.integers(n_last)].tolist()
    else:
        target = rng.uniform(0, 1, n_last).tolist()
    return {"layers": layers, "input": rng.normal(0, 1, sizes[0]).tolist(), "target": target, "cost": cost,
            "learning_rate": float(rng.uniform(0.01, 1))}


@pytest.mark.parametrize("hidden", ["sigmoid", "linear", "relu", "tanh"])
@pytest.mark.parametrize("last,cost", [("sigmoid", "quadratic"), ("sigmoid", "cross-entropy"), ("linear", "quadratic"),
                                       ("tanh", "quadratic"), ("relu", "quadratic"), ("softmax", "log-likelihood"),
                                       ("softmax", "quadratic"), ("softmax", "cross-entropy")])
def test_random_networks_agree_with_autograd(hidden, last, cost):
    rng = np.random.default_rng(zlib.crc32(f"{hidden} {last} {cost}".encode()))  # str hash() varies per process
    for _ in range(10):
        sizes = rng.integers(1, 6, size=rng.integers(2, 5)).tolist()
        if last == "softmax":
            sizes[-1] = max(sizes[-1], 2)
        acts = [hidden] * (len(sizes) - 2) + [last]
        net = parse_network(_random_net(rng, sizes, acts, cost))
        trace = backprop(net)
        agreement = compare(trace, autograd_trace(net))
        # both sides compute in float64; a different order of the same operations leaves ~1e-16
        assert agreement.max_abs_diff < 1e-12, agreement
        assert set(agreement.per_quantity) >= {"cost", "z", "a", "delta", "grad_weights", "new_biases"}


def test_softmax_log_likelihood_delta_is_a_minus_y():
    rng = np.random.default_rng(3)
    net = parse_network(_random_net(rng, [3, 4, 5], ["tanh", "softmax"], "log-likelihood"))
    out = backprop(net).layers[-1]
    assert np.array_equal(out.delta, out.a - net.target)
    assert out.derivative is None and out.a.sum() == pytest.approx(1.0)
    assert out.equation.startswith("δ^L = a^L - y")


def test_linear_network_uses_sigma_prime_one():
    rng = np.random.default_rng(4)
    net = parse_network(_random_net(rng, [3, 4, 2], ["linear", "linear"], "quadratic"))
    trace = backprop(net)
    hidden, out = trace.layers
    assert np.array_equal(out.delta, out.a - net.target)  # BP1 with σ' = 1: δ^L = a - y
    assert np.allclose(hidden.delta, net.layers[1].weights.T @ out.delta, rtol=0, atol=1e-15)
    assert "σ'(z) = 1" in hidden.equation and np.array_equal(hidden.derivative, np.ones(4))


def test_relu_at_zero_has_derivative_zero_like_torch():
    net = copy.deepcopy(CLASSIC)
    net["layers"][0]["activation"] = "relu"
    net["layers"][0]["weights"][0] = [0.0, 0.0]  # z^2_1 = 0 exactly: the kink
    net["layers"][0]["biases"] = [0.0, 0.35]
    parsed = parse_network(net)
    trace = backprop(parsed)
    assert trace.layers[0].z[0] == 0 and trace.layers[0].derivative[0] == 0
    assert compare(trace, autograd_trace(parsed)).max_abs_diff < 1e-15


def test_saturated_sigmoid_cross_entropy_stays_finite():
    net = copy.deepcopy(CLASSIC)
    net["cost"] = "cross-entropy"
    net["layers"][1]["biases"] = [800.0, -800.0]  # a = 1 and 0 exactly in float64
    trace = backprop(parse_network(net))
    assert np.isfinite(trace.cost) and trace.cost > 700  # ln σ(z) from z, not ln(a)
    assert np.array_equal(trace.layers[1].delta, trace.layers[1].a - np.array([0.01, 0.99]))


def test_saturated_softmax_cross_entropy_is_one_clear_error():
    net = copy.deepcopy(CLASSIC)
    net["cost"] = "cross-entropy"
    net["layers"][1]["activation"] = "softmax"
    net["layers"][1]["biases"] = [800.0, -800.0]
    with pytest.raises(NnlabError, match="not finite.*saturate"):
        backprop(parse_network(net))


def _with(path, value):
    net = copy.deepcopy(CLASSIC)
    target = net
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return net


@pytest.mark.parametrize("net,message", [
    (_with(["layers", 1, "weights"], [[0.4, 0.45]]), r"layers\[1\]\.weights: expected 2 rows of 2 .*got 1 rows of lengths \[2\]"),
    (_with(["layers", 0, "weights"], [[0.1, 0.2, 0.3], [0.1, 0.2, 0.3]]), r"layers\[0\]\.weights: expected 2 rows of 2"),
    (_with(["layers", 0, "biases"], [0.35]), r"layers\[0\]\.weights: expected 1 rows of 2"),
    (_with(["layers", 0, "activation"], "swish"), r"layers\[0\]\.activation: unknown 'swish'; choose one of sigmoid"),
    (_with(["layers", 0, "activation"], "softmax"), r"layers\[0\]\.activation: softmax is allowed on the last layer only"),
    (_with(["target"], [0.01, 0.99, 0.5]), r"target: expected 2 values \(the last layer has 2 neurons\), got 3"),
    (_with(["cost"], "hinge"), r"cost: unknown 'hinge'"),
    (_with(["cost"], "log-likelihood"), r"cost: log-likelihood .* needs a softmax last layer"),
    (_with(["layers", 1, "activation"], "relu") | {"cost": "cross-entropy"}, r"cost: cross-entropy .* sigmoid or softmax"),
    (_with(["target"], [1.5, 0.0]) | {"cost": "cross-entropy"}, r"target: cross-entropy needs targets in \[0, 1\]"),
    (_with(["layers", 1, "activation"], "softmax") | {"cost": "log-likelihood"}, r"target: log-likelihood .* one-hot"),
    (_with(["layers", 0, "weights"], [[0.1, "0.2"], [0.1, 0.2]]), r"layers\[0\]\.weights\[0\]\[1\]: expected a number, got str"),
    (_with(["layers", 0, "weights"], [[0.1, True], [0.1, 0.2]]), r"layers\[0\]\.weights\[0\]\[1\]: expected a number, got bool"),
    (_with(["input"], [0.05, 1e300 * 10]), r"input\[1\]: expected a finite number"),
    (_with(["input"], [0.05, 1e7]), r"input\[1\]: expected a finite number of magnitude at most 1e\+06"),
    (_with(["input"], []), r"input: expected a non-empty list"),
    (_with(["layers"], []), r"layers: expected a non-empty list"),
    (_with(["layers"], [CLASSIC["layers"][0]] * 17), r"layers: at most 16 layers"),
    (_with(["input"], [0.1] * (MAX_UNITS + 1)), rf"input: at most {MAX_UNITS} values"),
    (_with(["learning_rate"], 0), r"learning_rate: expected a positive number"),
    (_with(["learning_rate"], KeyError), r"learning_rate: missing"),
    (_with(["layers", 0, "biases"], KeyError), r"layers\[0\]\.biases: missing"),
    (_with(["activations"], "x"), r"'activations': unknown key"),
    (_with(["layers", 0, "bias"], [1]), r"layers\[0\]\.'bias': unknown key"),
    ([1, 2], r"must hold a JSON object"),
])
def test_bad_networks_name_the_field(net, message):
    with pytest.raises(NnlabError, match=message):
        parse_network(net)


def test_reads_a_network_file(tmp_path):
    path = tmp_path / "net.json"
    path.write_text(json.dumps(CLASSIC))
    net = load_network(path)
    assert net.cost == "quadratic" and net.layers[1].weights[0, 1] == 0.45
    assert net.to_json() == CLASSIC


@pytest.mark.parametrize("content,message", [
    (b'{"layers": [', "not valid JSON"),
    (b'{"input": [NaN]}', "NaN is not a finite number"),
    (b'{"input": [Infinity]}', "Infinity is not a finite number"),
    (b"\xff\xfe", "not UTF-8"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply|not valid JSON"),
    (b"1" * 5000, "not valid JSON"),
])
def test_hostile_file_contents(tmp_path, content, message):
    path = tmp_path / "net.json"
    path.write_bytes(content)
    with pytest.raises(NnlabError, match=message):
        load_network(path)


def test_only_small_regular_files_are_read(tmp_path):
    with pytest.raises(NnlabError, match="not a regular file"):
        load_network(tmp_path)
    with pytest.raises(NnlabError, match="cannot open"):
        load_network(tmp_path / "absent.json")
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (MAX_FILE_BYTES + 1))
    with pytest.raises(NnlabError, match="larger than 1024 KiB"):
        load_network(big)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(NnlabError, match="not a regular file"):
        load_network(fifo)  # returns at once: opened non-blocking, refused by fstat
