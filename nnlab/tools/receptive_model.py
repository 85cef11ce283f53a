"""Receptive fields of real ``nn.Module``s: an analytic walk and an autograd measurement.

``walk`` turns a module's leaf layers, in the order a forward pass calls them, into
``LayerSpec``s for ``receptive.compute``. ``measure`` runs a positive-weight copy of the module and reports the
bounding box of the input pixels whose gradient for one output unit is non-zero; ``expected_box``
predicts that box from the analytic rows, so the two can be compared exactly. A mismatch means the
walk missed something the forward pass does (functional pooling, skips, reshapes).

Models join ``receptive --model NAME`` through ``register_model``.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
from torch import nn
import torch.nn.functional as F

from nnlab.core.device import one_thread
from nnlab.errors import NnlabError
from nnlab.tools.receptive import LayerRow, LayerSpec, Pair

__all__ = ["walk", "measure", "measure_layers",
           "expected_box", "specs_to_module"]


# ---- analytic walk ----------------------------------------------------------------------------

# Leaf modules that leave the spatial geometry alone.
_PASS = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Sigmoid, nn.Tanh, nn.Softmax,
         nn.LogSoftmax, nn.Identity, nn.Dropout, nn.Dropout2d, nn.BatchNorm2d, nn.BatchNorm1d,
         nn.GroupNorm, nn.Flatten, nn.PReLU, nn.Hardtanh, nn.Mish)


def _pair(v) -> Pair:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _conv_padding(m: nn.Conv2d) -> Pair:
    if m.padding == "valid":
        return (0, 0)
    if m.padding == "same":
        # PyTorch pads "same" by (d*(k-1))//2 on the left; that is what moves `start`.
        return tuple(d * (k - 1) // 2 for k, d in zip(m.kernel_size, m.dilation))  # type: ignore[return-value]
    return _pair(m.padding)


_GEOMETRY = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.Linear)


def _calls(model: nn.Module, input_shape: tuple[int, int, int] | None) -> list[tuple[str, nn.Module, Pair | None]]:
    """Leaf modules as (name, module, input H x W) in the order the forward pass calls them.

    Without an input shape, registration order stands in (right for nn.Sequential chains).
    Execution order matters: a pooling layer defined once and called twice counts twice.
    """
    names = {m: n for n, m in model.named_modules()}
    leaves = [m for m in model.modules() if not list(m.children())]
    if input_shape is None:
        return [(names[m], m, None) for m in leaves]
    calls: list[tuple[str, nn.Module, Pair | None]] = []

    def hook(m, args, _out):
        x = args[0] if args else None
        hw = tuple(x.shape[-2:]) if isinstance(x, torch.Tensor) and x.dim() == 4 else None
        calls.append((names[m], m, hw))

    handles = [m.register_forward_hook(hook) for m in leaves]
    was_training = model.training
    try:
        with torch.no_grad(), one_thread():
            model.eval()(torch.zeros(1, *input_shape))
    except RuntimeError as exc:
        raise NnlabError(f"receptive: the model does not accept input {input_shape}: {exc}") from None
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return calls


def walk(model: nn.Module, input_shape: tuple[int, int, int] | None = None) -> list[LayerSpec]:
    """The module's geometry as specs, in call order. Linear and global pooling become ``global``.

    Functional calls inside ``forward`` (``F.max_pool2d``) are invisible here; the autograd
    measurement sees them, which is why the two are shown side by side. Spatial layers the walk
    cannot express (upsampling, transposed convs) raise ``NnlabError``.
    """
    specs: list[LayerSpec] = []
    for name, m, hw in _calls(model, input_shape):
        label = f"{name or 'model'} {type(m).__name__}"
        if isinstance(m, nn.Conv2d):
            specs.append(LayerSpec("conv", _pair(m.kernel_size), _pair(m.stride), _conv_padding(m),
                                   _pair(m.dilation), False, label))
        elif isinstance(m, nn.MaxPool2d):
            specs.append(LayerSpec("maxpool", _pair(m.kernel_size), _pair(m.stride or m.kernel_size),
                                   _pair(m.padding), _pair(m.dilation), m.ceil_mode, label))
        elif isinstance(m, nn.AvgPool2d):
            specs.append(LayerSpec("avgpool", _pair(m.kernel_size), _pair(m.stride or m.kernel_size),
                                   _pair(m.padding), (1, 1), m.ceil_mode, label))
        elif isinstance(m, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
            specs.append(_adaptive(m, hw, label))
        elif isinstance(m, nn.Linear):
            specs.append(LayerSpec("global", label=label))
        elif not isinstance(m, _PASS):
            raise NnlabError(f"receptive: cannot follow {type(m).__name__} ({name}) in a walk; "
                             "only Conv2d, MaxPool2d, AvgPool2d, adaptive pooling and Linear change geometry")
    return specs


def _adaptive(m: nn.Module, hw: Pair | None, label: str) -> LayerSpec:
    """Adaptive pooling is a plain pool when the output divides the input; otherwise whole input."""
    out = m.output_size if isinstance(m.output_size, tuple) else (m.output_size, m.output_size)
    out = tuple(n if o is None else o for o, n in zip(out, hw or (None, None)))
    if hw is None or None in out or out == (1, 1) or any(n % o for n, o in zip(hw, out)):
        return LayerSpec("global", label=label)  # uneven, overlapping windows: be conservative
    k = (hw[0] // out[0], hw[1] // out[1])
    kind = "avgpool" if isinstance(m, nn.AdaptiveAvgPool2d) else "maxpool"
    return LayerSpec(kind, k, k, label=f"{label} (= k{k[0]}x{k[1]})")


def specs_to_module(specs: list[LayerSpec], channels: int = 1) -> nn.Sequential:
    """A real module with the specs' geometry (used by tests and by ``receptive --check``)."""
    layers: list[nn.Module] = []
    for s in specs:
        if s.kind == "conv":
            layers.append(nn.Conv2d(channels, channels, s.kernel, s.stride, s.padding, s.dilation))
        elif s.kind == "maxpool":
            layers.append(nn.MaxPool2d(s.kernel, s.stride, s.padding, s.dilation, ceil_mode=s.ceil_mode))
        elif s.kind == "avgpool":
            layers.append(nn.AvgPool2d(s.kernel, s.stride, s.padding, ceil_mode=s.ceil_mode))
        else:
            layers += [nn.Flatten(), nn.LazyLinear(1)]
    return nn.Sequential(*layers)


# ---- autograd measurement ---------------------------------------------------------------------

class _DilatedMean(nn.Module):
    """Mean over a dilated window: a depthwise all-ones conv, so every window pixel gets gradient."""

    def __init__(self, k: Pair, s: Pair, p: Pair, d: Pair):
        super().__init__()
        self.k, self.s, self.p, self.d = k, s, p, d

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = x.shape[1]
        w = torch.full((c, 1, *self.k), 1.0 / (self.k[0] * self.k[1]), dtype=x.dtype)
        return F.conv2d(x, w, None, self.s, self.p, self.d, groups=c)  # (B,C,H,W) -> (B,C,H',W')


def _probe(model: nn.Module) -> nn.Module:
    """A float64 eval copy with positive weights, zero biases and max pooling turned into means.

    Max pooling routes gradient to one pixel per window and mixed-sign weights can cancel, either
    of which would hide pixels that do belong to the field.
    """
    probe = copy.deepcopy(model).double().eval()
    for parent in list(probe.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.MaxPool2d):
                k, s, p, d = (_pair(child.kernel_size), _pair(child.stride or child.kernel_size),
                              _pair(child.padding), _pair(child.dilation))
                new = (nn.AvgPool2d(k, s, p, ceil_mode=child.ceil_mode) if d == (1, 1)
                       else _DilatedMean(k, s, p, d))
                setattr(parent, name, new)
            elif isinstance(child, nn.AdaptiveMaxPool2d):
                setattr(parent, name, nn.AdaptiveAvgPool2d(child.output_size))
    with torch.no_grad():
        for pname, p in probe.named_parameters():
            if pname.endswith("bias"):
                p.zero_()
            else:
                # 1/fan-in keeps activations near the input's scale through deep stacks.
                p.fill_(1.0 / max(1, math.prod(p.shape[1:])))
        for bname, b in probe.named_buffers():
            if bname.endswith("running_mean"):
                b.zero_()
            elif bname.endswith("running_var"):
                b.fill_(1.0)
    return probe


@dataclass(frozen=True)
class Measurement:
    """Bounding box (rows, cols; inclusive) of non-zero input gradient for one output unit."""

    unit: tuple[int, ...]
    rows: tuple[int, int]
    cols: tuple[int, int]

    @property
    def extent(self) -> Pair:
        return (self.rows[1] - self.rows[0] + 1, self.cols[1] - self.cols[0] + 1)


_PROBED = (nn.Conv2d, nn.AvgPool2d, _DilatedMean, nn.AdaptiveAvgPool2d, nn.Linear)


def _box(grad: torch.Tensor, unit: tuple[int, ...]) -> Measurement:
    hit = grad[0].abs().sum(0) > 0  # (C, H, W) -> (H, W): pixels this unit depends on
    if not hit.any():
        raise NnlabError("receptive: an output unit has no input gradient at all")
    r = hit.any(1).nonzero().flatten()
    c = hit.any(0).nonzero().flatten()
    return Measurement(unit, (int(r[0]), int(r[-1])), (int(c[0]), int(c[-1])))


def measure_layers(model: nn.Module, input_shape: tuple[int, int, int]) -> list[Measurement]:
    """For every geometry call (the order of ``walk``), the box of one output unit's input gradient.

    The unit is the centre spatial position with its channels summed, or the first feature of a
    flat output.
    """
    with one_thread():
        return _measure_layers(model, input_shape)


def _measure_layers(model: nn.Module, input_shape: tuple[int, int, int]) -> list[Measurement]:
    if any(isinstance(m, nn.modules.lazy.LazyModuleMixin) for m in model.modules()):
        with torch.no_grad():  # lazy layers get their shapes from a first forward pass
            model.eval()(torch.zeros(1, *input_shape))
    probe = _probe(model)
    outs: list[torch.Tensor] = []
    handles = [m.register_forward_hook(lambda _m, _a, out: outs.append(out))
               for m in probe.modules() if isinstance(m, _PROBED)]
    gen = torch.Generator().manual_seed(0)
    # Positive inputs keep every ReLU open; uniform noise avoids constant-input degeneracies.
    x = (0.5 + torch.rand((1, *input_shape), generator=gen, dtype=torch.float64)).requires_grad_(True)
    try:
        probe(x)
    finally:
        for h in handles:
            h.remove()
    if not outs:
        raise NnlabError("receptive: the model has no Conv2d, pooling or Linear layer to measure")
    found = []
    for out in outs:
        if out.dim() == 4:  # (1, C, H', W')
            unit: tuple[int, ...] = (out.shape[2] // 2, out.shape[3] // 2)
            target = out[0, :, unit[0], unit[1]].sum()
        else:
            unit, target = (0,), out.reshape(-1)[0]
        (grad,) = torch.autograd.grad(target, x, retain_graph=True)
        found.append(_box(grad, unit))
    return found


def measure(model: nn.Module, input_shape: tuple[int, int, int]) -> Measurement:
    """The box of the last geometry layer's centre unit: the model's receptive field, measured."""
    return measure_layers(model, input_shape)[-1]


def expected_box(rows: list[LayerRow], input_hw: Pair, unit: tuple[int, ...]) -> tuple[Pair, Pair]:
    """The analytic prediction of ``measure``'s box: the field of ``unit`` clipped to the input."""
    last = rows[-1]
    if last.rf is None or len(unit) != 2:
        return last.covered or ((0, input_hw[0] - 1), (0, input_hw[1] - 1))
    box = []
    for ax in (0, 1):
        centre = last.start[ax] + unit[ax] * last.jump[ax]
        half = (last.rf[ax] - 1) / 2
        box.append((max(0, math.ceil(centre - half)), min(input_hw[ax] - 1, math.floor(centre + half))))
    return box[0], box[1]
