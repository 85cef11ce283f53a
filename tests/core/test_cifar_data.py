"""CIFAR-10 python batches: the real format through the restricted reader, archives, refusals."""

from __future__ import annotations

import io
import json
import pickle
import tarfile

import numpy as np
import pytest
import torch

from cifar_files import FOLDER, Evil, batch_bytes, class_images, py2_dumps, write_cifar_archive, write_cifar_folder
from nnlab.core.data import import_extracted, load_dataset, read_batch
from nnlab.errors import DataUnavailable, NnlabError


def test_real_format_folder_loads_through_the_data_layer(tmp_path):
    write_cifar_folder(tmp_path, n_train=100, n_test=30)
    data = load_dataset("cifar10", tmp_path)
    assert data.name == "cifar10" and data.classes[3] == "cat"
    assert data.train.images.shape == (100, 3, 32, 32) and data.train.images.dtype == torch.uint8
    assert data.test.images.shape == (30, 3, 32, 32) and data.train.labels.dtype == torch.long
    # the plain (unsafe) reader sees the same bytes: the format really is CIFAR's
    with open(tmp_path / FOLDER / "data_batch_1", "rb") as fh:
        reference = pickle.load(fh, encoding="latin1")
    assert sorted(reference) == ["batch_label", "data", "filenames", "labels"]
    assert np.array_equal(reference["data"].reshape(-1, 3, 32, 32), data.train.images[:20].numpy())
    assert reference["labels"] == data.train.labels[:20].tolist()


def test_python3_protocol2_pickles_are_read_too(tmp_path):
    images = class_images(np.array([1, 2]), np.random.default_rng(0))
    path = tmp_path / "batch"
    path.write_bytes(pickle.dumps({"data": images, "labels": [1, 2], "filenames": [b"a", b"b"]}, protocol=2))
    batch = read_batch(path)
    assert batch["filenames"] == [b"a", b"b"] and np.array_equal(batch["data"], images)


def test_archive_in_the_data_dir_is_extracted_and_loaded(tmp_path):
    write_cifar_archive(tmp_path / "cifar-10-python.tar.gz", n_train=50, n_test=20)
    data = load_dataset("cifar10", tmp_path)
    assert len(data.train) == 50 and len(data.test) == 20
    assert (tmp_path / FOLDER / "test_batch").is_file()


def test_hostile_pickle_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    write_cifar_folder(tmp_path, n_train=50, n_test=10)
    (tmp_path / FOLDER / "data_batch_3").write_bytes(pickle.dumps({"data": Evil(marker), "labels": []}, protocol=2))
    with pytest.raises(NnlabError, match=r"foreign object \((posix|nt)\.system\)"):
        load_dataset("cifar10", tmp_path)
    assert not marker.exists()


def test_codecs_encode_with_another_codec_is_refused(tmp_path):
    path = tmp_path / "batch"  # _codecs.encode('x', 'zlib_codec'): allowed name, foreign use
    path.write_bytes(b"\x80\x02c_codecs\nencode\nq\x00X\x01\x00\x00\x00xX\n\x00\x00\x00zlib_codecq\x01\x86R.")
    with pytest.raises(NnlabError, match="foreign object"):
        read_batch(path)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "wrong shape", "bad labels", "not a dict"])
def test_bad_batch_files_get_a_clear_error(tmp_path, damage):
    write_cifar_folder(tmp_path, n_train=50, n_test=10)
    path = tmp_path / FOLDER / "test_batch"
    good = path.read_bytes()
    images = np.zeros((2, 3072), np.uint8)
    path.write_bytes({
        "truncated": good[: len(good) // 2],
        "garbage": b"\x00\x01not a pickle at all",
        "wrong shape": batch_bytes(np.zeros((2, 100), np.uint8), np.array([0, 1]), "x"),
        "bad labels": batch_bytes(images, np.array([0, 12]), "x"),
        "not a dict": py2_dumps([1, 2, 3]),
    }[damage])
    with pytest.raises(NnlabError, match="corrupt or truncated|not a CIFAR") as info:
        load_dataset("cifar10", tmp_path)
    assert str(path) in info.value.message


def test_missing_files_offline_name_both_accepted_forms(tmp_path):
    with pytest.raises(DataUnavailable, match="cifar-10-python.tar.gz or its extracted cifar-10-batches-py"):
        load_dataset("cifar10", tmp_path)


def test_archive_members_cannot_escape_the_folder(tmp_path):
    staging = write_cifar_folder(tmp_path / "src", n_train=50, n_test=10) / FOLDER
    archive = tmp_path / "data" / "cifar-10-python.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tar:
        for f in sorted(staging.iterdir()):
            tar.add(f, arcname=f"{FOLDER}/{f.name}")
        evil = tarfile.TarInfo("../../escaped")
        evil.size = 4
        tar.addfile(evil, io.BytesIO(b"boom"))
    assert len(load_dataset("cifar10", archive.parent).train) == 50
    assert not (tmp_path / "escaped").exists()


def test_corrupt_archive_is_reported(tmp_path):
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(b"\x1f\x8b\x08\x00 truncated")
    with pytest.raises(NnlabError, match="corrupt or truncated"):
        load_dataset("cifar10", tmp_path)


def test_import_of_an_extracted_folder_checks_every_file(tmp_path):
    source = write_cifar_folder(tmp_path / "download", n_train=50, n_test=10)
    rows = import_extracted(source, tmp_path / "data")
    assert {f for _, f, _ in rows} >= {f"{FOLDER}/data_batch_1", f"{FOLDER}/test_batch", f"{FOLDER}/batches.meta"}
    assert len(load_dataset("cifar10", tmp_path / "data").train) == 50
    (source / FOLDER / "data_batch_2").write_bytes(pickle.dumps(Evil(tmp_path / "pwned"), protocol=2))
    with pytest.raises(NnlabError, match="foreign object"):
        import_extracted(source / FOLDER, tmp_path / "other")
    assert not (tmp_path / "other" / FOLDER).exists() and not (tmp_path / "pwned").exists()


def test_nnlab_data_import_takes_the_extracted_folder_and_status_shows_it(tmp_path):
    from typer.testing import CliRunner

    from nnlab.cli.app import app

    source = write_cifar_folder(tmp_path / "download", n_train=50, n_test=10)
    data_dir = tmp_path / "data"
    runner = CliRunner()
    res = runner.invoke(app, ["data", "import", str(source), "--data-dir", str(data_dir)])
    assert res.exit_code == 0, res.output
    assert "cifar-10-batches-py/data_batch_1" in res.output and "imported" in res.output
    assert len(load_dataset("cifar10", data_dir).train) == 50
    res = runner.invoke(app, ["data", "status", "--data-dir", str(data_dir), "--json"])
    (row,) = [r for r in json.loads(res.stdout)["files"] if r["dataset"] == "cifar10"]
    assert row["present"] and row["file"] == FOLDER and row["checksum_ok"] is None


def test_nnlab_data_import_of_the_archive_then_training_data_loads(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from nnlab.cli.app import app
    from nnlab.core.data import md5sum, specs

    archive = write_cifar_archive(tmp_path / "download" / "cifar-10-python.tar.gz", n_train=50, n_test=10)
    runner = CliRunner()
    res = runner.invoke(app, ["data", "import", str(archive.parent), "--data-dir", str(tmp_path / "data")])
    assert res.exit_code == 2 and "refused" in res.output  # not the published archive: md5 differs
    monkeypatch.setitem(specs.FILES, "cifar10", ((archive.name, md5sum(archive)),))  # pretend it is
    monkeypatch.setitem(specs.ARCHIVE_SIZES, "cifar10", {archive.name: archive.stat().st_size})
    res = runner.invoke(app, ["data", "import", str(archive.parent), "--data-dir", str(tmp_path / "data")])
    assert res.exit_code == 0 and "imported" in res.output
    assert len(load_dataset("cifar10", tmp_path / "data").test) == 10


def test_hostile_extracted_folder_is_refused_by_nnlab_data_import(tmp_path):
    from typer.testing import CliRunner

    from nnlab.cli.app import app

    source = write_cifar_folder(tmp_path / "download", n_train=50, n_test=10)
    (source / FOLDER / "test_batch").write_bytes(pickle.dumps(Evil(tmp_path / "pwned"), protocol=2))
    res = CliRunner().invoke(app, ["data", "import", str(source), "--data-dir", str(tmp_path / "data")])
    assert res.exit_code == 2 and "foreign object" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "pwned").exists()


def test_importing_the_data_dirs_own_folder_is_a_no_op(tmp_path):
    root = write_cifar_folder(tmp_path, n_train=50, n_test=10)
    rows = import_extracted(root / FOLDER, root)
    assert rows and all(outcome.startswith("already present") for *_, outcome in rows)


def test_archive_in_a_read_only_nnlab_data_is_extracted_into_the_user_cache(tmp_path, monkeypatch):
    import os
    from pathlib import Path

    data_dir = tmp_path / "shared"
    write_cifar_archive(data_dir / "cifar-10-python.tar.gz", n_train=50, n_test=10)
    monkeypatch.setenv("NNLAB_DATA", str(data_dir))
    data_dir.chmod(0o555)
    try:
        assert len(load_dataset("cifar10").train) == 50
    finally:
        data_dir.chmod(0o755)
    assert not (data_dir / FOLDER).exists()
    cache = list(Path(os.environ["XDG_CACHE_HOME"]).glob(f"nnlab/extracted/*/{FOLDER}/test_batch"))
    assert len(cache) == 1
