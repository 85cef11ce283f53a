"""A small network read from JSON, checked field by field before any arithmetic.

The format (`weights[j][k]` is the weight from input k to neuron j, Nielsen's w^l_jk):

    {"layers": [{"weights": [[0.15, 0.20], [0.25, 0.30]], "biases": [0.35, 0.35], "activation": "sigmoid"},
                {"weights": [[0.40, 0.45], [0.50, 0.55]], "biases": [0.60, 0.60], "activation": "sigmoid"}],
     "input": [0.05, 0.10], "target": [0.01, 0.99], "cost": "cross-entropy", "learning_rate": 0.5}

The file is hostile until proven otherwise: only a regular file of at most MAX_FILE_BYTES is
read, sizes are capped, every number must be finite, and each mistake is one NnlabError
naming the field (`layers[1].weights: expected 2 rows of 2, got ...`).
"""

from __future__ import annotations

import json
import math
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nnlab.errors import NnlabError
from nnlab.experiments.backprop.config import MAX_ABS

ACTIVATIONS = ("sigmoid", "linear", "relu", "tanh", "softmax")
COSTS = ("quadratic", "cross-entropy", "log-likelihood")
MAX_FILE_BYTES = 1 << 20  # 1 MiB holds far more than a hand-sized network
MAX_LAYERS = 16
MAX_UNITS = 256  # per layer, and for the input: every number is printed, so keep it readable
TOP_KEYS = ("layers", "input", "target", "cost", "learning_rate")
OPTIONAL_KEYS = ("description",)  # a line saying what the network is for, shown with the results
MAX_DESCRIPTION = 500
LAYER_KEYS = ("weights", "biases", "activation")


@dataclass(frozen=True)
class Layer:
    """One fully connected layer: z = W a_prev + b, a = activation(z)."""

    weights: np.ndarray  # (n_out, n_in) float64, weights[j, k]: input k -> neuron j
    biases: np.ndarray  # (n_out,)
    activation: str


@dataclass(frozen=True)
class Network:
    """A checked network with one training example, its cost and its learning rate."""

    layers: tuple[Layer, ...]
    input: np.ndarray  # (n_0,)
    target: np.ndarray  # (n_L,)
    cost: str
    learning_rate: float
    description: str = ""

    def to_json(self) -> dict:
        """The network in the file format (what was read, after checking)."""
        return {"layers": [{"weights": layer.weights.tolist(), "biases": layer.biases.tolist(),
                            "activation": layer.activation} for layer in self.layers],
                "input": self.input.tolist(), "target": self.target.tolist(), "cost": self.cost,
                "learning_rate": self.learning_rate} | ({"description": self.description} if self.description else {})


def read_json_file(path: str | Path, what: str = "network file") -> Any:
    """Parse JSON from a regular file of at most MAX_FILE_BYTES; anything else is an NnlabError."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not block us
    except OSError as exc:
        raise NnlabError(f"{what} {path}: cannot open ({exc.strerror})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NnlabError(f"{what} {path}: not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise NnlabError(f"{what} {path}: larger than {MAX_FILE_BYTES // 1024} KiB; "
                         "a hand-sized network is far smaller")
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise NnlabError(f"{what} {path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise NnlabError(f"{what} {path}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise NnlabError(f"{what} {path}: not valid JSON ({exc})") from None
    except RecursionError:
        raise NnlabError(f"{what} {path}: nested too deeply") from None


def _no_constant(name: str) -> Any:
    raise NnlabError(f"{name} is not a finite number; every number must be finite")


def load_network(path: str | Path) -> Network:
    """Read and check a network file."""
    return parse_network(read_json_file(path))


def parse_network(obj: Any) -> Network:
    """Check a parsed JSON object field by field and build the Network."""
    if not isinstance(obj, dict):
        raise NnlabError(f"the network file must hold a JSON object with keys {', '.join(TOP_KEYS)}; "
                         f"got {_kind(obj)}")
    _known_keys(obj, TOP_KEYS + OPTIONAL_KEYS, "")
    for key in TOP_KEYS:
        if key not in obj:
            raise NnlabError(f"{key}: missing (the file needs {', '.join(TOP_KEYS)})")
    x = _vector(obj["input"], "input")
    raw_layers = obj["layers"]
    if not isinstance(raw_layers, list) or not raw_layers:
        raise NnlabError(f"layers: expected a non-empty list of layers, got {_kind(raw_layers)}")
    if len(raw_layers) > MAX_LAYERS:
        raise NnlabError(f"layers: at most {MAX_LAYERS} layers, got {len(raw_layers)}")
    layers, n_in = [], len(x)
    for i, raw in enumerate(raw_layers):
        layer = _layer(raw, f"layers[{i}]", n_in)
        if layer.activation == "softmax" and i != len(raw_layers) - 1:
            raise NnlabError(f"layers[{i}].activation: softmax is allowed on the last layer only "
                             f"(layer {i} of {len(raw_layers)} is hidden)")
        layers.append(layer)
        n_in = len(layer.biases)
    cost = _cost(obj["cost"], layers[-1].activation)
    y = _vector(obj["target"], "target")
    if len(y) != n_in:
        raise NnlabError(f"target: expected {n_in} values (the last layer has {n_in} neurons), got {len(y)}")
    _check_target(y, cost)
    lr = obj["learning_rate"]
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr <= MAX_ABS:
        raise NnlabError(f"learning_rate: expected a positive number at most {MAX_ABS:g}, got {lr!r}")
    description = obj.get("description", "")
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        raise NnlabError(f"description: expected a string of at most {MAX_DESCRIPTION} characters, "
                         f"got {_kind(description)}")
    return Network(tuple(layers), x, y, cost, float(lr), description)


def _layer(raw: Any, where: str, n_in: int) -> Layer:
    if not isinstance(raw, dict):
        raise NnlabError(f"{where}: expected an object with {', '.join(LAYER_KEYS)}, got {_kind(raw)}")
    _known_keys(raw, LAYER_KEYS, f"{where}.")
    for key in LAYER_KEYS:
        if key not in raw:
            raise NnlabError(f"{where}.{key}: missing")
    activation = raw["activation"]
    if activation not in ACTIVATIONS:
        raise NnlabError(f"{where}.activation: unknown {_short(activation)}; choose one of {', '.join(ACTIVATIONS)}")
    biases = _vector(raw["biases"], f"{where}.biases")
    n_out = len(biases)
    weights = _matrix(raw["weights"], f"{where}.weights", n_out, n_in)
    return Layer(weights, biases, activation)


def _cost(cost: Any, last_activation: str) -> str:
    if cost not in COSTS:
        raise NnlabError(f"cost: unknown {_short(cost)}; choose one of {', '.join(COSTS)}")
    if cost == "log-likelihood" and last_activation != "softmax":
        raise NnlabError(f"cost: log-likelihood (-ln a_y) needs a softmax last layer, "
                         f"got {last_activation}; set the last layer's activation to softmax")
    if cost == "cross-entropy" and last_activation not in ("sigmoid", "softmax"):
        raise NnlabError(f"cost: cross-entropy takes ln a and ln(1 - a), so the last layer's outputs must lie "
                         f"in (0, 1): use sigmoid or softmax there, not {last_activation}")
    return cost


def _check_target(y: np.ndarray, cost: str) -> None:
    if cost == "cross-entropy" and ((y < 0) | (y > 1)).any():
        raise NnlabError(f"target: cross-entropy needs targets in [0, 1], got {_numbers(y)}")
    if cost == "log-likelihood":
        one_hot = set(np.unique(y)) <= {0.0, 1.0} and y.sum() == 1
        if not one_hot:
            raise NnlabError(f"target: log-likelihood (-ln a_y) needs a one-hot target (one 1, the rest 0) "
                             f"naming the class y, got {_numbers(y)}")


def _known_keys(obj: dict, known: tuple[str, ...], prefix: str) -> None:
    for key in obj:
        if key not in known:
            raise NnlabError(f"{prefix}{_short(key)}: unknown key; expected {', '.join(known)}")


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise NnlabError(f"{where}: expected a number, got {_kind(value)}")
    value = float(value)  # a huge JSON integer becomes inf here, and is refused below
    if not math.isfinite(value) or abs(value) > MAX_ABS:
        raise NnlabError(f"{where}: expected a finite number of magnitude at most {MAX_ABS:g}, got {value:g}")
    return value


def _vector(values: Any, where: str) -> np.ndarray:
    if not isinstance(values, list) or not values:
        raise NnlabError(f"{where}: expected a non-empty list of numbers, got {_kind(values)}")
    if len(values) > MAX_UNITS:
        raise NnlabError(f"{where}: at most {MAX_UNITS} values, got {len(values)}")
    return np.array([_number(v, f"{where}[{i}]") for i, v in enumerate(values)], dtype=np.float64)


def _matrix(rows: Any, where: str, n_rows: int, n_cols: int) -> np.ndarray:
    shape_ok = (isinstance(rows, list) and len(rows) == n_rows
                and all(isinstance(r, list) and len(r) == n_cols for r in rows))
    if not shape_ok:
        raise NnlabError(f"{where}: expected {n_rows} rows of {n_cols} (one row per neuron, one column per "
                         f"input), got {_shape(rows)}")
    return np.array([[_number(v, f"{where}[{j}][{k}]") for k, v in enumerate(row)] for j, row in enumerate(rows)],
                    dtype=np.float64)


def _shape(rows: Any) -> str:
    if not isinstance(rows, list):
        return _kind(rows)
    lengths = [len(r) if isinstance(r, list) else _kind(r) for r in rows[:8]]
    more = ", ..." if len(rows) > 8 else ""
    return f"{len(rows)} rows of lengths [{', '.join(map(str, lengths))}{more}]"


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    if value is None:
        return "null"
    return f"{type(value).__name__} {_short(value)}"


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _numbers(y: np.ndarray) -> str:
    return "[" + ", ".join(f"{v:g}" for v in y[:8]) + (", ...]" if len(y) > 8 else "]")
