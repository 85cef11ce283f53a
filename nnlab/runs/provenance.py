"""What a run records about the code that made it: library versions and nnlab's git commit."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from nnlab import __version__

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the nnlab package folder
LIBRARIES = ("torch", "torchvision", "numpy")


def versions() -> dict[str, str]:
    """Versions of Python, nnlab and the libraries a result depends on (those installed)."""
    found = {"python": platform.python_version(), "nnlab": __version__}
    for name in LIBRARIES:
        module = sys.modules.get(name)
        version = getattr(module, "__version__", None) if module is not None else None
        if version is None:
            try:  # not imported by this command (torchvision often is not): ask the installer's record
                version = metadata.version(name)
            except metadata.PackageNotFoundError:
                continue
        found[name] = str(version)
    return found


def _git(*args: str) -> str | None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}  # no GIT_DIR from the caller
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, timeout=3, cwd=PACKAGE_DIR, env=env)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_info() -> dict | None:
    """`{"commit": sha, "dirty": bool}` when nnlab runs from its own git checkout, else None.

    Only nnlab's checkout counts: an installed nnlab inside some other repository (a venv
    in a project folder, say) is not the code that repository's commit describes.
    """
    top = _git("rev-parse", "--show-toplevel")
    if not top or (Path(top).resolve() / "nnlab") != PACKAGE_DIR:
        return None
    commit = _git("rev-parse", "HEAD")
    if not commit:
        return None
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": None if status is None else bool(status)}
