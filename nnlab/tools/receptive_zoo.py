"""nnlab's own conv models, registered for ``nnlab receptive --model NAME``.

Every entry of ``nnlab.core.models.CONV_MODELS`` joins automatically: classifiers whole, and
autoencoders through their ``encoder`` (the decoder's upsampling has no receptive field to
speak of). Models with another input shape register here with ``register_model``.

The registry lives here, not in ``receptive_model`` (the walker), so neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from torch import nn

from nnlab.core.models import CONV_MODELS
from nnlab.core.models.autoencoders import Autoencoder


@dataclass(frozen=True)
class ModelEntry:
    """A model ``receptive --model`` can analyse: a zero-argument factory and its input (C, H, W)."""

    name: str
    factory: Callable[[], nn.Module]
    input_shape: tuple[int, int, int]
    description: str = ""


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(name: str, factory: Callable[[], nn.Module], input_shape: tuple[int, int, int],
                   description: str = "") -> None:
    """Make ``factory()`` available as ``nnlab receptive --model NAME`` (input shape is C, H, W)."""
    _REGISTRY[name] = ModelEntry(name, factory, tuple(input_shape), description)  # type: ignore[arg-type]


def registered_models() -> dict[str, ModelEntry]:
    """All registered models, nnlab's own included, by name."""
    return dict(sorted(_REGISTRY.items()))


def _encoder_of(ctor: Callable[[], nn.Module]) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        model = ctor()
        return getattr(model, "encoder", model)

    return build


def _describe(ctor) -> str:
    target = getattr(ctor, "func", ctor)  # functools.partial keeps the class in .func
    doc = (target.__doc__ or "").strip().splitlines()
    part = "encoder of " if isinstance(target, type) and issubclass(target, Autoencoder) else ""
    return f"{part}{target.__name__}" + (f": {doc[0]}" if doc else "")


for _name, _ctor in CONV_MODELS.items():
    register_model(_name, _encoder_of(_ctor), (1, 28, 28), _describe(_ctor))


def _cifar_net() -> nn.Module:
    from nnlab.core.models.cifar import CifarNet

    return CifarNet()


register_model("cifar-net", _cifar_net, (3, 32, 32), "CifarNet: the airbench-style CIFAR-10 network")
