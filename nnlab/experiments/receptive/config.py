"""Settings of `nnlab receptive`, each declared once (no torch here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from nnlab.errors import NnlabError
from nnlab.experiments.base import Config, option
from nnlab.tools.receptive import parse_input_size


@dataclass(frozen=True, kw_only=True)
class ReceptiveConfig(Config):
    """Receptive field, jump, start and output size of each layer of a conv/pool stack."""

    layers: Optional[str] = option(None, 'Layer string, e.g. "conv(3,1) conv(3,1) pool(2,2)". Forms: conv(k,s[,p[,d]]), '
                                   "conv(k=3, s=2, p=1), pool/maxpool/avgpool(k,s[,p]), conv2d, maxpool2d, 3x5 kernels.",
                                   argument=True)
    input: Optional[str] = option(None, "Input size H or HxW: adds each layer's output size.", default_text="")
    model: Optional[str] = option(None, "Walk one of nnlab's models instead (see --list-models); checked against "
                                  "autograd.", default_text="")
    table: Optional[str] = option(None, "A file with one layer string per line (optionally 'N  layers  8 x 8' as in "
                                  "the assignment); one row each.", path=True, default_text="")
    autograd: bool = option(False, "Also measure the fields with autograd on a 1-channel copy of the stack (layer "
                            "strings and --table).", flag="--check", negatable=False)
    list_models: bool = option(False, "List the models --model accepts.", action=True)

    def check(self) -> None:
        if self.input is not None:
            parse_input_size(self.input)
        if not self.list_models and sum(x is not None for x in (self.layers, self.model, self.table)) != 1:
            raise NnlabError('give exactly one of: a layer string ("conv(3,1) pool(2,2)"), --model NAME or --table FILE')
