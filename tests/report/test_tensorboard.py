"""`nnlab runs export --tensorboard`: the event files read back with TensorBoard's own reader."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from nnlab.cli.app import app
from runfactory import make_run

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def _load(folder):
    acc = event_accumulator.EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    acc.Reload()
    return acc


def test_scalars_images_and_config_read_back(tmp_runs, tmp_path):
    writer = make_run(tmp_runs, "kmeans", config={"lr": 4.5, "init": "exemplar", "sizes": [1, 2]},
                      epochs=3, steps=4, base=2.0)
    out = tmp_path / "tb"
    result = CliRunner().invoke(app, ["runs", "export", writer.id, "--tensorboard", str(out),
                                      "--runs-dir", str(tmp_runs)])
    assert result.exit_code == 0, result.output
    assert "2 images" in result.output and "tensorboard --logdir" in result.output
    acc = _load(out / writer.id)
    tags = acc.Tags()
    assert {"train/loss", "test/loss", "test/accuracy", "train/step_loss"} <= set(tags["scalars"])
    # runfactory: test loss at the end of epoch e is base / (4e) * 1.2 at step 4e
    test_loss = [(e.step, e.value) for e in acc.Scalars("test/loss")]
    assert [s for s, _ in test_loss] == [4, 8, 12]
    assert [v for _, v in test_loss] == pytest.approx([2.0 / 4 * 1.2, 2.0 / 8 * 1.2, 2.0 / 12 * 1.2])
    assert len(acc.Scalars("train/step_loss")) == 12
    assert acc.Scalars("train/step_loss")[0].value == pytest.approx(2.0)
    assert set(tags["images"]) == {"artifacts/centers", "artifacts/samples"}
    image = acc.Images("artifacts/centers")[0]
    assert image.width > 100 and image.height > 10 and image.encoded_image_string[:4] == b"\x89PNG"
    text = acc.Tensors("config/text_summary")[0].tensor_proto.string_val[0].decode()
    assert '"lr": 4.5' in text and '"init": "exemplar"' in text
    # the hparams plugin's data: the config's fields by name
    hparams = acc.PluginTagToContent("hparams")
    assert hparams and any(b"exemplar" in content and b"lr" in content for content in hparams.values())


def test_refuses_to_write_inside_the_runs_root(tmp_runs):
    writer = make_run(tmp_runs, "kmeans")
    result = CliRunner().invoke(app, ["runs", "export", writer.id, "--tensorboard", str(tmp_runs / "tb"),
                                      "--runs-dir", str(tmp_runs)])
    assert result.exit_code == 2 and "inside the runs root" in result.output
    assert not (tmp_runs / "tb").exists()
