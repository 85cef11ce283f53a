"""Settings of `nnlab ops-check`, each declared once (no torch here)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from nnlab.errors import NnlabError
from nnlab.experiments.base import Seeded, option

MAX_LENGTH = 65_536  # Linear(length, out_features) stays under 70M weights


@dataclass(frozen=True, kw_only=True)
class OpsCheckConfig(Seeded):
    """Re-implement question 4's six layers in plain numpy and compare them with torch.

    Without --input/--filter the tensors are made from --seed; either way they are saved in the run
    as pixel_input.pt and filter.pt, with both sides' outputs. Exit code 1 on any mismatch.
    """

    input: Optional[str] = option(None, "Input signal saved with torch.save: (L,), (L, 1), (C, L) or (N, C, L), "
                                  "e.g. pixel_input.pt.", path=True, default_text="")
    filter: Optional[str] = option(None, "Conv filter saved with torch.save: (K,), (K, 1) or (C_out, C_in, K), "
                                   "e.g. filter.pt.", path=True, default_text="")
    length: int = option(32, "Length of a generated input (no --input).", min=2, max=MAX_LENGTH)  # 32x1 pixels
    kernel: int = option(3, "Length of a generated filter (no --filter).", min=1, max=MAX_LENGTH)  # a 3x1 filter
    # Linear(L, out_features); the assignment leaves it open
    out_features: int = option(8, "Output size of the Linear layer.", min=1, max=1024)

    def check(self) -> None:
        if self.kernel > self.length:
            raise NnlabError(f"--kernel must be between 1 and --length ({self.length}), got {self.kernel}")
        for flag, path in (("--input", self.input), ("--filter", self.filter)):
            if path is not None and not Path(path).is_file():
                what = "not a regular file (a device, FIFO or folder)" if Path(path).exists() else "no such file"
                raise NnlabError(f"{flag}: {what}: {path}; give a tensor file saved with torch.save")
