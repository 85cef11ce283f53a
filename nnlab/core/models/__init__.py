"""nnlab's models, one module per family.

`CONV_MODELS` maps a name to a zero-argument constructor of a convolutional model that takes
(1, 28, 28) images; `nnlab receptive --model NAME` can walk them. The autoencoders keep their
encoder as one `nn.Sequential` named `encoder` whose leaves run in order.
"""

from __future__ import annotations

from functools import partial
from typing import Callable

from torch import nn

from nnlab.core.models.classifiers import CNN
from nnlab.core.models.conv_autoencoders import ConvVAE, FunnelCAE, GenerativeAE, PoolCAE, StridedCAE

CONV_MODELS: dict[str, Callable[[], nn.Module]] = {
    "cnn": CNN,
    "cae-pool": PoolCAE,
    "cae-pool-skip": partial(PoolCAE, skip=True),
    "cae-strided": StridedCAE,
    "cae-funnel": FunnelCAE,
    "cae-generative": GenerativeAE,
    "cae-vae": ConvVAE,
}
