"""Importing canonical archives: checksums verified, nothing half-copied left behind."""

from __future__ import annotations

import pytest

from nnlab.core.data import ArchiveSpec, import_archives, importing, md5sum, status
from nnlab.errors import NnlabError


def test_import_from_the_real_archives(shared_data, tmp_path):
    rows = import_archives(shared_data, tmp_path, ("mnist", "fashion-mnist"))
    assert [o for *_, o in rows] == ["imported"] * 8
    assert all(r.present and r.checksum_ok for r in status(tmp_path, ("mnist", "fashion-mnist")))
    # MNIST and Fashion-MNIST share file names: each landed in its own folder
    assert md5sum(tmp_path / "MNIST/raw/train-images-idx3-ubyte.gz") == "f68b3c2dcbeaaa9fbdd348bbdeb94873"


def test_a_corrupt_file_is_refused_and_not_copied(idx_data_dir, tmp_path, monkeypatch):
    good = idx_data_dir / "MNIST" / "raw"
    spec = ArchiveSpec("mnist", "MNIST/raw", tuple((p.name, md5sum(p)) for p in sorted(good.iterdir())))
    monkeypatch.setattr(importing, "archive_spec", lambda name: spec)  # checksums of our tiny files
    source = tmp_path / "download"
    source.mkdir()
    for p in good.iterdir():
        (source / p.name).write_bytes(p.read_bytes())
    (source / "t10k-labels-idx1-ubyte.gz").write_bytes(b"truncated")
    target = tmp_path / "imported"
    rows = import_archives(source, target, ("mnist",))
    outcomes = {f: o for _, f, o in rows}
    assert outcomes["train-images-idx3-ubyte.gz"] == "imported"
    assert outcomes["t10k-labels-idx1-ubyte.gz"].startswith("refused")
    assert not (target / "MNIST/raw/t10k-labels-idx1-ubyte.gz").exists()
    assert not list(target.rglob("*.partial"))


def test_nothing_to_import_is_an_error(tmp_path):
    with pytest.raises(NnlabError, match="no canonical archives"):
        import_archives(tmp_path, tmp_path / "data", ("mnist",))
    with pytest.raises(NnlabError, match="does not exist"):
        import_archives(tmp_path / "nope", tmp_path / "data", ("mnist",))


def test_load_weights_refuses_missing_corrupt_and_foreign_files(tmp_path):
    import torch

    from nnlab.core.checkpoints import load_weights

    good = tmp_path / "good.pt"
    torch.save({"w": torch.ones(2)}, good)
    assert torch.equal(load_weights(good, "model")["w"], torch.ones(2))
    with pytest.raises(NnlabError, match="no such file"):
        load_weights(tmp_path / "absent.pt", "model")
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(NnlabError, match="corrupt"):
        load_weights(tmp_path / "junk.pt", "model")
    torch.save({"f": tmp_path}, tmp_path / "foreign.pt")  # a Path is not allowed under weights_only
    with pytest.raises(NnlabError, match="corrupt"):
        load_weights(tmp_path / "foreign.pt", "model")
