"""A model summary: each leaf layer in the order it runs, its output shape and parameter count."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class LayerRow:
    """One executed leaf layer."""

    name: str  # dotted path in the model, e.g. "encoder.0"
    kind: str  # the module's class name
    output: tuple[int, ...]  # output shape without the batch dimension
    params: int  # parameters owned by this layer (not counted again if it runs twice)


@torch.no_grad()
def summarize(model: nn.Module, input_shape: tuple[int, ...], device: torch.device | str = "cpu") -> list[LayerRow]:
    """Run one batch of two zero inputs of `input_shape` (C, H, W) through `model` in eval mode
    and list its leaf layers in execution order. Two, so batch-norm layers accept the batch."""
    rows: list[LayerRow] = []
    seen: set[int] = set()

    def hook(name: str):
        def record(module: nn.Module, _inputs, output) -> None:
            first = id(module) not in seen
            seen.add(id(module))
            params = sum(p.numel() for p in module.parameters(recurse=False)) if first else 0
            shape = tuple(output.shape[1:]) if isinstance(output, torch.Tensor) else ()
            rows.append(LayerRow(name, type(module).__name__, shape, params))
        return record

    leaves = [(name, m) for name, m in model.named_modules() if not list(m.children())]
    handles = [m.register_forward_hook(hook(name)) for name, m in leaves]
    was_training = model.training
    model.eval()
    try:
        model(torch.zeros((2, *input_shape), device=device))
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return rows


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters of `model`."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
