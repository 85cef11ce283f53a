"""Loading a user's `.pt` file: always `weights_only`, and one clear error for every failure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from nnlab.errors import NnlabError


def load_weights(path: Path, what: str, map_location: torch.device | str = "cpu") -> Any:
    """`torch.load(path, weights_only=True)`; a missing, truncated or foreign file raises NnlabError.

    weights_only: tensors and plain containers only, since unpickling arbitrary objects runs code.
    """
    if not path.is_file():
        raise NnlabError(f"{what}: no such file {path}")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception:  # pickle, zip, key and "unsupported global" errors all mean the same here
        raise NnlabError(f"{what}: {path} is corrupt or not a tensor file saved with torch.save; "
                         "re-create it (re-train the run, or torch.save a tensor)") from None
