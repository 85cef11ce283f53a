"""What run.json records about the code: library versions, and nnlab's own git commit only."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess

import pytest

from nnlab.runs import provenance
from nnlab.runs.store import RunStore


def test_versions_name_every_installed_library():
    found = provenance.versions()
    assert found["python"] and found["nnlab"]
    for name in ("torch", "torchvision", "numpy"):
        assert (name in found) == (importlib.util.find_spec(name) is not None)


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_git_is_recorded_only_for_nnlabs_own_checkout(tmp_path, monkeypatch):
    info = provenance.git_info()
    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=provenance.PACKAGE_DIR,
                         capture_output=True, text=True).stdout.strip()
    if top and (provenance.PACKAGE_DIR.parent.resolve() == provenance.Path(top).resolve()):
        assert len(info["commit"]) == 40 and isinstance(info["dirty"], bool)
    else:
        assert info is None
    # the same package seen from inside some other repository is not that repository's code
    other = tmp_path / "project"
    (other / "site" / "nnlab").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(other)], check=True)
    monkeypatch.setattr(provenance, "PACKAGE_DIR", other / "site" / "nnlab")
    assert provenance.git_info() is None
    monkeypatch.setattr(provenance, "PACKAGE_DIR", other / "nnlab")
    (other / "nnlab").mkdir()
    (other / "nnlab" / "x.py").write_text("x = 1\n")
    subprocess.run(["git", "-C", str(other), "add", "."], check=True)
    subprocess.run(["git", "-C", str(other), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"], check=True)
    assert provenance.git_info()["dirty"] is False
    (other / "nnlab" / "x.py").write_text("x = 2\n")
    assert provenance.git_info()["dirty"] is True


def test_run_json_holds_versions_and_git(tmp_runs):
    writer = RunStore(tmp_runs).create("kmeans", {})
    assert writer.info["versions"] == provenance.versions() and writer.info["git"] == provenance.git_info()
