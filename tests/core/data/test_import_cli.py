"""`nnlab data import` and `nnlab data status` against data dirs that cannot take files, and
the one-line messages for missing data, through Typer's CliRunner and the real loader."""

from __future__ import annotations

import os
import stat

import pytest
from typer.testing import CliRunner

from cifar_files import FOLDER, write_cifar_folder
from nnlab.cli.app import app
from nnlab.core.data import load_dataset
from nnlab.errors import DataUnavailable


def _import(source, data_dir):
    return CliRunner().invoke(app, ["data", "import", str(source), "--data-dir", str(data_dir)])


def _one_error_line(res) -> str:
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.output
    return lines[0]


@pytest.fixture
def source(tmp_path):
    return write_cifar_folder(tmp_path / "download", n_train=50, n_test=10)


def test_a_data_dir_that_is_a_file(tmp_path, source):
    target = tmp_path / "data"
    target.write_text("not a folder")
    line = _one_error_line(_import(source, target))
    assert "is a file, not a folder" in line and "--data-dir" in line
    assert target.read_text() == "not a folder"


def test_a_missing_data_dir_is_created(tmp_path, source):
    res = _import(source, tmp_path / "new" / "data")
    assert res.exit_code == 0 and (tmp_path / "new" / "data" / FOLDER / "data_batch_1").is_file()


def test_a_data_dir_that_cannot_be_created(tmp_path, source):
    (tmp_path / "blocker").write_text("x")  # a file where a parent folder would have to be
    line = _one_error_line(_import(source, tmp_path / "blocker" / "data"))
    assert "cannot create the data dir" in line


def test_a_read_only_data_dir(tmp_path, source):
    target = tmp_path / "data"
    target.mkdir()
    target.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        line = _one_error_line(_import(source, target))
    finally:
        target.chmod(0o755)
    assert "is read-only" in line and not list(target.iterdir())


def test_a_folder_where_a_target_file_belongs(tmp_path, source):
    target = tmp_path / "data"
    (target / FOLDER / "data_batch_1").mkdir(parents=True)
    line = _one_error_line(_import(source, target))
    assert "is a folder where the file data_batch_1 belongs" in line
    assert not list(target.rglob("*.partial"))


def test_status_of_a_data_dir_that_is_a_file_and_of_odd_entries(tmp_path):
    runner = CliRunner()
    (tmp_path / "file").write_text("x")
    line = _one_error_line(runner.invoke(app, ["data", "status", "--data-dir", str(tmp_path / "file")]))
    assert "is a file, not a folder" in line
    data_dir = tmp_path / "data"
    (data_dir / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").mkdir(parents=True)  # a folder
    os.mkfifo(data_dir / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz")  # would block a reader
    res = runner.invoke(app, ["data", "status", "--data-dir", str(data_dir), "--json"])
    assert res.exit_code == 0, res.output
    import json

    rows = {(r["dataset"], r["file"]): r for r in json.loads(res.stdout)["files"]}
    assert rows["mnist", "train-images-idx3-ubyte.gz"]["checksum_ok"] is False
    assert rows["mnist", "t10k-images-idx3-ubyte.gz"]["checksum_ok"] is False


def test_a_file_of_the_wrong_size_is_refused_without_reading_it(tmp_path):
    source = tmp_path / "download"
    source.mkdir()
    with open(source / "train-images-idx3-ubyte.gz", "wb") as fh:
        fh.truncate(5 << 30)  # 5 GB, sparse: md5 over it would take a minute
    res = _import(source, tmp_path / "data")
    assert res.exit_code == 2 and "refused" in res.output
    assert not (tmp_path / "data" / "MNIST").exists()


# ---- missing data: one line, naming the folder, the files and a fix that fits -------------

def test_missing_with_an_explicit_data_dir_names_it_in_the_fix(tmp_path):
    with pytest.raises(DataUnavailable) as info:
        load_dataset("mnist", tmp_path / "d")
    message = info.value.message
    assert "\n" not in message and str(tmp_path / "d" / "MNIST" / "raw") in message
    assert "train-images-idx3-ubyte.gz" in message and "$NNLAB_OFFLINE is set" in message
    assert f"`nnlab data import PATH --data-dir {tmp_path / 'd'}`" in message
    assert "pass --data-dir" not in message  # it was given already


def test_missing_in_the_default_dir_suggests_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("NNLAB_DATA")
    with pytest.raises(DataUnavailable) as info:
        load_dataset("cifar10")
    assert "pass --data-dir DIR" in info.value.message and "cifar-10-python.tar.gz" in info.value.message


def test_a_failed_download_is_one_line_saying_what_was_tried(tmp_path, monkeypatch):
    import socket

    monkeypatch.delenv("NNLAB_OFFLINE")

    def no_network(*args, **kwargs):  # this machine may have a network; the test must not use it
        raise OSError(101, "Network is unreachable")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", lambda self, *a: no_network())
    with pytest.raises(DataUnavailable) as info:
        load_dataset("fashion-mnist", tmp_path / "d")
    message = info.value.message
    assert "\n" not in message
    assert "downloading http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz failed" in message
    assert "Network is unreachable" in message and "nnlab data import PATH --data-dir" in message
    assert not [p for p in (tmp_path / "d").rglob("*") if p.is_file()]  # nothing half-downloaded
