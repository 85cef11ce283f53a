"""The layer-string parser and the receptive-field arithmetic, checked against hand values and torch."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings, strategies as st
import torch
from torch import nn

from nnlab.errors import NnlabError
from nnlab.tools.receptive import (LayerSpec, ReceptiveParseError, compute, format_rf, parse,
                                   parse_input_size, parse_table)
from nnlab.tools.receptive_model import expected_box, measure, measure_layers, specs_to_module, walk
from nnlab.tools.receptive_zoo import registered_models

# The assignment's table (question 6); row 1's 8 x 8 is given there, the rest worked by hand:
# r += (k-1)*j, j *= s.
ASSIGNMENT = [
    ("conv2d(3,1) conv2d(3,1) conv2d(1,1) maxpool2d(2,2) conv2d(2,2)", 8),
    ("conv2d(3,1) maxpool2d(2,2) conv2d(2,2) maxpool2d(2,2) conv2d(3,1)", 26),
    ("conv2d(5,1) maxpool2d(3,1) conv2d(4,1) maxpool2d(2,2) conv2d(3,1)", 15),
    ("conv2d(7,2) conv2d(5,1) conv2d(3,2) conv2d(3,1) conv2d(1,1)", 27),
    ("conv2d(4,1) conv2d(3,2) maxpool2d(2,2) conv2d(3,1) maxpool2d(2,2)", 20),
    ("conv2d(7,2) conv2d(5,2) maxpool2d(2,2) conv2d(5,2) conv2d(7,2)", 147),
    ("conv2d(3,3) maxpool2d(2,2) conv2d(5,3) maxpool2d(3,3) conv2d(5,1)", 282),
    ("conv2d(4,2) maxpool2d(2,2) conv2d(3,1) conv2d(1,1) conv2d(2,1)", 18),
    ("conv2d(11,2) conv2d(7,2) maxpool2d(2,2) conv2d(5,2) conv2d(3,1)", 91),
]


def rf_of(text: str, size=None):
    return compute(parse(text), size)[-1].rf


@pytest.mark.parametrize("text,rf", ASSIGNMENT)
def test_assignment_table(text, rf):
    assert rf_of(text) == (rf, rf)


def test_first_row_jump_start_and_sizes():
    rows = compute(parse("conv(3,1) conv(3,1) conv(1,1) pool(2,2) conv(2,2)"), (32, 32))
    assert [r.rf[0] for r in rows] == [3, 5, 5, 6, 8]
    assert [r.jump[0] for r in rows] == [1, 1, 1, 2, 4]
    assert [r.start[0] for r in rows] == [1.0, 2.0, 2.0, 2.5, 3.5]
    assert [r.out[0] for r in rows] == [30, 28, 28, 14, 7]
    assert format_rf(rows[-1].rf) == "8 x 8"


@pytest.mark.parametrize("text", [
    "conv(3,1) conv(3,1) conv(1,1) pool(2,2) conv(2,2)",
    "conv(3,1),conv(3,1),conv(1,1),pool(2,2),conv(2,2)",
    "conv(3,1)conv(3,1)conv(1,1)pool(2,2)conv(2,2)",
    "conv2d(3, 1) -> conv2d(3,1) ; conv2d(1,1) | maxpool2d(2,2) conv2d(2,2)",
    "CONV(k=3) conv(k=3, s=1) conv(kernel_size=1, stride=1, padding=0, dilation=1) "
    "maxpool(kernel_size=2) conv(2, stride=2)",
    "conv(3x3,1) conv(3 x 3,1x1) conv(1,1,0,1) pool(2,2,0) conv(2,2,0,1)",
])
def test_spellings_agree(text):
    assert rf_of(text) == (8, 8)


def test_forms_and_defaults():
    conv, pool, avg = parse("conv(3x5, 2, p=1, d=2) pool(3) avgpool2d(k=2, s=1, p=1, ceil_mode=true)")
    assert conv == LayerSpec("conv", (3, 5), (2, 2), (1, 1), (2, 2), False, "conv(3x5, 2, p=1, d=2)")
    assert conv.effective_kernel == (5, 9)
    assert (pool.kind, pool.stride) == ("maxpool", (3, 3))  # pool stride defaults to its kernel
    assert (avg.kind, avg.padding, avg.ceil_mode) == ("avgpool", (1, 1), True)
    assert rf_of("conv(3x5,1)") == (3, 5)


@pytest.mark.parametrize("text,pos,words", [
    ("conv(3,1) conv(3,,1)", 17, "expected a number"),
    ("conv(3,1) foo(2)", 10, "unknown layer"),
    ("conv(3,1", 8, "expected ')'"),
    ("conv(3,1) $", 10, "unexpected character"),
    ("conv(3,1,0,1,5)", 13, "too many"),
    ("conv(q=3)", 5, "unknown argument"),
    ("conv(s=2)", 8, "needs a kernel"),
    ("conv(0,1)", 5, "at least 1"),
    ("conv(3, k=3)", 8, "given twice"),
    ("conv(3) (", 8, "expected a layer name"),
    ("conv(3, ceil=true)", 0, "pooling only"),
    ("", 0, "empty"),
    ("pool(2, ceil=maybe)", 13, "true or false"),
])
def test_parse_errors_carry_position(text, pos, words):
    with pytest.raises(ReceptiveParseError) as err:
        parse(text)
    assert err.value.position == pos
    assert words in err.value.message
    assert err.value.exit_code == 2
    assert err.value.caret().splitlines()[1] == " " * pos + "^"


def test_problem_4_1_sizes_match_torch():
    # Problem 4.1 of cnn-ae-cae: a 50x50 input through four single layers.
    cases = {"conv(4,1,1)": 49, "conv(8,5,0)": 9, "pool(10,2,2)": 23, "pool(2,1,0)": 49}
    for text, size in cases.items():
        (spec,) = parse(text)
        out = compute([spec], (50, 50))[0].out
        assert out == (size, size)
        assert tuple(specs_to_module([spec])(torch.zeros(1, 1, 50, 50)).shape[2:]) == out


def test_output_sizes_and_flags_match_torch():
    rng = random.Random(3)
    for _ in range(300):
        kind = rng.choice(["conv", "maxpool", "avgpool"])
        k, s, p = rng.randint(1, 6), rng.randint(1, 4), rng.randint(0, 4)
        d = rng.randint(1, 3) if kind != "avgpool" else 1
        ceil = kind != "conv" and rng.random() < 0.5
        n = rng.randint(1, 20)
        spec = LayerSpec(kind, (k, k), (s, s), (p, p), (d, d), ceil)
        row = compute([spec], (n, n))[0]
        try:
            got = tuple(specs_to_module([spec])(torch.zeros(1, 1, n, n)).shape[2:])
        except RuntimeError as exc:  # torch refuses: we must have flagged it
            assert row.flags, (spec, n, exc)
            continue
        if "padding > half kernel (PyTorch rejects)" in row.flags:
            pytest.fail(f"flagged but torch accepted {spec}")
        assert row.out == got, (spec, n)


def test_empty_output_is_flagged():
    rows = compute(parse("conv(5,1) conv(5,1)"), (6, 6))
    assert rows[0].out == (2, 2) and rows[1].out == (0, 0)
    assert "empty output" in rows[1].flags


def test_random_stacks_match_autograd():
    rng = random.Random(7)
    for _ in range(25):
        specs = []
        for _ in range(rng.randint(1, 4)):
            kind = rng.choice(["conv", "conv", "maxpool", "avgpool"])
            k = (rng.randint(1, 4), rng.randint(1, 4))
            d = (rng.randint(1, 2), rng.randint(1, 2)) if kind != "avgpool" else (1, 1)
            p = tuple(rng.randint(0, e // 2) for e in ((d[0] * (k[0] - 1) + 1), d[1] * (k[1] - 1) + 1))
            if kind == "avgpool":
                p = tuple(min(a, b // 2) for a, b in zip(p, k))
            specs.append(LayerSpec(kind, k, (rng.randint(1, 2), rng.randint(1, 2)), p, d))
        rows = compute(specs)
        n = 3 * max(rows[-1].rf) + 4 * max(rows[-1].jump) + 4  # the centre unit's field fits inside
        m = measure(specs_to_module(specs), (1, n, n))
        assert m.extent == rows[-1].rf, specs
        assert (m.rows, m.cols) == expected_box(compute(specs, (n, n)), (n, n), m.unit)


def test_walk_a_module_with_global_layers():
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(4, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2))
    specs = walk(model, (1, 28, 28))
    rows = compute(specs, (28, 28))
    assert rows[-1].rf == (10, 10) and rows[-1].out == (7, 7)
    m = measure(model, (1, 28, 28))
    assert (m.rows, m.cols) == expected_box(rows, (28, 28), m.unit)
    assert m.extent == (10, 10)

    head = nn.Sequential(model, nn.Flatten(), nn.Linear(8 * 49, 2))
    rows = compute(walk(head, (1, 28, 28)), (28, 28))
    assert rows[-1].rf is None and format_rf(rows[-1].rf) == "whole input"
    assert measure(head, (1, 28, 28)).extent == (28, 28)


def test_walk_adaptive_pooling_and_same_padding():
    body = nn.Sequential(nn.Conv2d(1, 2, 3, padding="same"), nn.AdaptiveAvgPool2d(4))
    rows = compute(walk(body, (1, 8, 8)), (8, 8))
    assert rows[0].out == (8, 8) and rows[1].rf == (4, 4) and rows[1].out == (4, 4)
    glob = nn.Sequential(nn.Conv2d(1, 2, 3), nn.AdaptiveMaxPool2d(1))
    assert compute(walk(glob, (1, 9, 9)), (9, 9))[-1].rf is None
    assert measure(glob, (1, 9, 9)).extent == (9, 9)


def test_walk_refuses_what_it_cannot_follow():
    with pytest.raises(NnlabError, match="Upsample"):
        walk(nn.Sequential(nn.Conv2d(1, 1, 3), nn.Upsample(scale_factor=2)))


def test_input_size_parsing():
    assert parse_input_size("32") == (32, 32)
    assert parse_input_size(" 28x20 ") == (28, 20)
    for bad in ["", "0", "3x", "axb", "-4"]:
        with pytest.raises(NnlabError):
            parse_input_size(bad)


def test_table_file_as_pasted_from_the_assignment():
    content = ("# receptive field table\n"
               "1\tconv2d(3,1)\tconv2d(3,1)\tconv2d(1,1)\tmaxpool2d(2,2)\tconv2d(2,2)\t8 x 8\n"
               "\n"
               "2\tconv2d(3,1)\tmaxpool2d(2,2)\tconv2d(2,2)\tmaxpool2d(2,2)\tconv2d(3,1)\t_\n"
               "conv(3x5,1) = 3x5\n")
    rows = parse_table(content)
    assert [(r.line_no, r.label, r.expected) for r in rows] == [(2, "1", (8, 8)), (4, "2", None),
                                                                (5, "3", (3, 5))]
    assert rf_of(rows[0].text) == (8, 8) and rf_of(rows[1].text) == (26, 26)


class SharedPoolCNN(nn.Module):
    """Like the MNIST CNN: one MaxPool2d module called twice, ReLU applied functionally."""

    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 4, 5), nn.Conv2d(4, 8, 5)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))  # (B, 1, 28, 28) -> (B, 4, 12, 12)
        x = self.pool(torch.relu(self.conv2(x)))  # -> (B, 8, 4, 4)
        return self.fc(x.flatten(1))


def test_walk_follows_call_order_of_a_shared_pool_and_functional_relu():
    model = SharedPoolCNN()
    specs = walk(model, (1, 28, 28))
    assert [s.kind for s in specs] == ["conv", "maxpool", "conv", "maxpool", "global"]
    assert [s.kind for s in walk(model)] == ["conv", "conv", "maxpool", "global"]  # registration order
    rows = compute(specs, (28, 28))
    assert [r.rf for r in rows[:4]] == [(5, 5), (6, 6), (14, 14), (16, 16)]
    assert [r.out for r in rows[:4]] == [(24, 24), (12, 12), (8, 8), (4, 4)]
    measured = measure_layers(model, (1, 28, 28))
    assert len(measured) == len(rows)
    for row, m in zip(rows, measured):
        assert (m.rows, m.cols) == expected_box(rows[:row.index + 1], (28, 28), m.unit)


def test_measurement_exposes_what_the_walk_cannot_see():
    class Hidden(nn.Module):  # pools functionally: the walk sees two 3x3 convs only
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3)

        def forward(self, x):
            return self.b(torch.nn.functional.max_pool2d(self.a(x), 2))

    rows = compute(walk(Hidden(), (1, 20, 20)), (20, 20))
    assert rows[-1].rf == (5, 5)
    assert measure(Hidden(), (1, 20, 20)).extent == (8, 8)  # the truth, including the pool


def test_every_registered_model_walks_and_agrees_with_autograd():
    models = registered_models()
    assert models, "nnlab's own conv models should be registered"
    for name, entry in models.items():
        model = entry.factory()
        assert isinstance(model, nn.Module), name
        hw = entry.input_shape[1:]
        rows = compute(walk(model, entry.input_shape), hw)
        for row, m in zip(rows, measure_layers(model, entry.input_shape)):
            assert (m.rows, m.cols) == expected_box(rows[:row.index + 1], hw, m.unit), (name, row.index)


def test_global_layer_knows_which_pixels_strided_layers_never_read():
    specs = parse("conv(3,2,1) conv(3,2,1) conv(3,2)") + [LayerSpec("global")]
    rows = compute(specs, (32, 32))
    assert rows[-1].rf is None
    assert rows[-1].covered == ((0, 27), (0, 27))  # units at 4, 12, 20 with a 15-pixel field
    assert rows[-1].flags == ("reads input rows 0-27, cols 0-27 only",)
    assert compute(specs, (28, 28))[-1].flags == ()
    m = measure(specs_to_module(specs), (1, 32, 32))  # the global spec becomes Flatten + LazyLinear
    assert (m.rows, m.cols) == expected_box(rows, (32, 32), m.unit)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["conv", "conv2d", "pool", "maxpool", "maxpool2d", "avgpool"]),
                          st.integers(1, 9), st.integers(1, 9), st.integers(1, 4), st.integers(0, 3),
                          st.integers(1, 3), st.booleans(), st.sampled_from([" ", ",", " -> ", "", "; "])),
                min_size=1, max_size=5))
def test_any_spelling_parses_back_to_its_layers(layers):
    text, want = "", []
    for i, (name, kh, kw, s, p, d, keywords, sep) in enumerate(layers):
        kernel = f"{kh}" if kh == kw else f"{kh}x{kw}"
        args = (f"k={kernel}, stride={s}, padding={p}, d={d}" if keywords else f"{kernel},{s},{p},{d}")
        text += ("" if i == 0 else sep) + f"{name}({args})"
        kind = "conv" if name.startswith("conv") else ("avgpool" if name == "avgpool" else "maxpool")
        want.append((kind, (kh, kw), (s, s), (p, p), (d, d)))
    got = [(x.kind, x.kernel, x.stride, x.padding, x.dilation) for x in parse(text)]
    assert got == want


def test_literals_are_bounded():
    from nnlab.tools.receptive import MAX_LITERAL

    assert parse(f"conv({MAX_LITERAL},1)")[0].kernel == (MAX_LITERAL, MAX_LITERAL)
    for text in (f"conv({MAX_LITERAL + 1},1)", "conv(3x" + "0" * 3 + "9" * 7 + ",1)"):
        with pytest.raises(ReceptiveParseError, match="too large"):
            parse(text)
    with pytest.raises(NnlabError, match="--input"):
        parse_input_size(str(MAX_LITERAL + 1))
