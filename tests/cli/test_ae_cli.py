"""`nnlab ae` / `nnlab cae` end to end on tiny IDX data: files written and readable, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from nnlab.cli.app import app
from nnlab.runs.store import RunStore

runner = CliRunner()
FIGURES = ("loss.png", "reconstructions.png", "latent.png", "mean_latent.png")


def invoke(*args: str):
    return runner.invoke(app, list(args))


def train(runs: Path, data: Path, *args: str) -> dict:
    """Train for one epoch on the tiny data; return the --json result."""
    res = invoke(*args, "--epochs", "1", "--device", "cpu", "--data-dir", str(data), "--runs-dir", str(runs), "--json")
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def one_line_error(res, fragment: str) -> None:
    assert res.exit_code == 2, res.output
    lines = [line for line in res.output.splitlines() if line.strip()]
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in res.output, res.output


def test_ae_trains_saves_figures_and_a_loadable_model(tmp_runs, idx_data_dir):
    out = train(tmp_runs, idx_data_dir, "ae", "--arch", "funnel", "--latent", "3", "--batch-size", "32")
    run = RunStore(tmp_runs).get(out["run_id"])
    assert run.status == "completed" and run.config["loss"] == "l1" and run.config["latent"] == 3
    names = {p.name for p in run.artifacts()}
    assert set(FIGURES) | {"model.pt"} <= names
    state = torch.load(run.path / "artifacts" / "model.pt", weights_only=True)
    assert state["encoder.5.weight"].shape == (3, 49)  # 49 -> λ
    summary = run.summary()
    assert summary["latent_dim"] == 3 and 0 <= summary["test_mse"] < 1 and summary["parameters"] > 0
    assert len(out["mean_latent"]) == 3
    # a dense autoencoder cannot generate: `cae generate` says so in one line
    one_line_error(invoke("cae", "generate", out["run_id"], "--runs-dir", str(tmp_runs)), "cannot generate")


def test_cae_funnel_trains_with_l1_and_decodes_its_mean_latent(tmp_runs, idx_data_dir):
    out = train(tmp_runs, idx_data_dir, "cae", "--arch", "funnel", "--latent", "2", "--batch-size", "32")
    run = RunStore(tmp_runs).get(out["run_id"])
    assert run.config["loss"] == "l1" and run.config["optimizer"] == "adam"
    assert set(FIGURES) <= {p.name for p in run.artifacts()}
    assert len(out["mean_latent"]) == 2 and min(out["mean_latent"]) >= 0  # ReLU on z: a non-negative mean
    state = torch.load(run.path / "artifacts" / "model.pt", weights_only=True)
    assert state["encoder.4.weight"].shape == (2, 32, 7, 7)  # the λ-wide bottleneck conv
    res = invoke("cae", "--arch", "funnel", "--latent", "32", "--summary")
    assert res.exit_code == 0 and "32x1x1" in res.output and "109,985" in res.output, res.output
    help_text = " ".join(invoke("cae", "--help").output.split())
    assert "figure is missing" in help_text and "conv 32→λ k7" in help_text


def test_cluster_reports_hungarian_accuracy_beside_raw_pixels(tmp_runs, idx_data_dir):
    train(tmp_runs, idx_data_dir, "cae", "--arch", "pool", "--skip", "--noise", "0.3", "--batch-size", "32")
    res = invoke("ae", "cluster", "latest", "--runs-dir", str(tmp_runs), "--device", "cpu", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert 0 <= out["latent"]["accuracy_before_mapping"] <= out["latent"]["accuracy"] <= 1
    for space in ("latent", "pixels"):  # both mappings on the same clustering; Hungarian never worse
        scores = out[space]
        assert scores["accuracy"] == scores["accuracy_hungarian"] >= scores["accuracy_greedy"]
        table = scores["table"]
        assert scores["accuracy_greedy"] == pytest.approx(
            sum(table[label][int(c)] for c, label in scores["greedy_mapping"].items()) / 200)
        assert len(set(scores["greedy_mapping"].values())) == len(scores["greedy_mapping"])  # one-to-one
    text = " ".join(res.stderr.split())
    assert "accuracy, greedy centroid map (report)" in text and "accuracy, Hungarian-mapped" in text
    assert "Hungarian is never worse on the training table" in text and "latent: greedy map, cluster→class index" in text
    assert sum(map(sum, out["pixels"]["table"])) == 200
    assert out["pixels"]["accuracy"] > 0.9  # the tiny classes are blocks at distinct places
    assert "k-means clusters against the labels" in res.stderr
    cluster_run = RunStore(tmp_runs).get(out["run_id"])
    assert {"latent_table.csv", "pixels_table.png"} <= {p.name for p in cluster_run.artifacts()}


def test_the_denoising_preset_is_noisy_clusters_greedily_and_decodes_9_random_z(tmp_runs, idx_data_dir):
    out = train(tmp_runs, idx_data_dir, "cae", "--arch", "strided", "--batch-size", "32")
    assert RunStore(tmp_runs).get(out["run_id"]).config["noise"] == 0.3
    res = invoke("ae", "cluster", out["run_id"], "--no-raw", "--mapping", "greedy", "--runs-dir", str(tmp_runs),
                 "--device", "cpu", "--json")
    assert res.exit_code == 0, res.output
    latent = json.loads(res.stdout)["latent"]
    assert latent["accuracy"] == latent["accuracy_greedy"] and "accuracy_hungarian" not in latent
    assert "Hungarian-mapped" not in res.stderr and "highlighted: the greedy centroid matching" in res.stderr
    res = invoke("cae", "generate", out["run_id"], "--runs-dir", str(tmp_runs), "--device", "cpu", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["runs"][out["run_id"]] == {"arch": "strided", "samples": 9}


def test_generators_sample_side_by_side(tmp_runs, idx_data_dir):
    gen = train(tmp_runs, idx_data_dir, "cae", "--arch", "generative")
    vae = train(tmp_runs, idx_data_dir, "cae", "--arch", "vae", "--latent", "4")
    gen_artifacts = RunStore(tmp_runs).get(gen["run_id"]).path / "artifacts"
    assert (gen_artifacts / "samples.png").exists() and (gen_artifacts / "blocks.png").exists()
    assert RunStore(tmp_runs).get(gen["run_id"]).config["encoder"] == "mirror"
    res = invoke("cae", "generate", gen["run_id"], vae["run_id"], "--n", "6", "--runs-dir", str(tmp_runs),
                 "--device", "cpu", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert [v["arch"] for v in out["runs"].values()] == ["generative", "vae"]
    names = {p.name for p in RunStore(tmp_runs).get(out["run_id"]).artifacts()}
    assert {"samples.png", "samples_0_generative.png", "samples_1_vae.png"} <= names


def test_linear_ae_prints_pca_beside_it_and_saves_both_bases(tmp_runs, idx_data_dir):
    """P5.3 from the command line: the table, the angles, the basis figure, and the numbers in --json."""
    res = invoke("ae", "--arch", "linear", "--latent", "3", "--epochs", "1", "--device", "cpu", "--images", "none",
                 "--data-dir", str(idx_data_dir), "--runs-dir", str(tmp_runs))
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "linear autoencoder vs PCA, K = 3" in text and "principal angles between the decoder's column space" in text
    out = train(tmp_runs, idx_data_dir, "ae", "--arch", "linear", "--latent", "3")
    run = RunStore(tmp_runs).get(out["run_id"])
    assert run.config["loss"] == "mse" and run.summary()["pca_test_mse"] == pytest.approx(out["pca_test_mse"])
    assert 0 < out["pca_test_mse"] < out["linear_ae_test_mse"] < 1  # one epoch is short of PCA's optimum
    angles = out["principal_angles_deg"]
    assert len(angles) == 3 and angles == sorted(angles) and all(0 <= a <= 90 for a in angles)
    state = torch.load(run.path / "artifacts" / "model.pt", weights_only=True)
    assert [tuple(v.shape) for k, v in state.items() if k.endswith("weight")] == [(3, 784), (784, 3)]  # 784-K-784
    from PIL import Image

    with Image.open(run.path / "artifacts" / "pca_basis.png") as basis:  # two rows of K images
        assert basis.format == "PNG" and basis.width > basis.height


@pytest.mark.parametrize("command, said", [
    (["cae"], ["generative only: mirror (assumed, as the seed's HW6 Q3 CNN is missing",
               "σ = 0.3 is assumed, cnn-ae-cae 6.3's value"]),
    (["ae"], ["linear (784-K-784, no activation, MSE; beside PCA with K components"]),
])
def test_help_states_what_was_assumed(command, said):
    text = " ".join(invoke(*command, "--help").output.replace("│", " ").split())
    assert all(s in text for s in said), text


def test_summary_prints_the_table_and_trains_nothing(tmp_runs):
    res = invoke("cae", "--arch", "generative", "--summary", "--runs-dir", str(tmp_runs))
    assert res.exit_code == 0, res.output
    assert "ConvTranspose2d" in res.output and "20x25x25" in res.output and "543,551" in res.output
    # encoder beside decoder, each pair on one row: the stage and the decoder step that inverts it
    assert "A  conv 1→20 k4" in res.output and "6. convT 20→1 k4, sigmoid" in res.output
    assert "C  max-pool 2" in res.output and "4. bicubic upsample x2" in res.output
    res = invoke("cae", "--arch", "generative", "--summary", "--json")
    out = json.loads(res.stdout)
    assert [p["decoder_step"] for p in out["pairs"]] == [6, 5, 4, 3, 2, 1]
    from PIL import Image

    with Image.open(out["sketch"]) as sketch:  # a real PNG, wide enough for 13 tensors side by side
        assert sketch.format == "PNG" and sketch.width > 2 * sketch.height
    res = invoke("cae", "--arch", "generative", "--encoder", "strided", "--summary", "--json")
    assert json.loads(res.stdout)["parameters"] == 317_359 and "pairs" not in json.loads(res.stdout)
    res = invoke("ae", "--arch", "shallow", "--summary", "--json")
    layers = json.loads(res.stdout)
    assert layers["parameters"] == 218_192 and layers["layers"][-1]["output"] == "1x28x28"
    assert not any(tmp_runs.iterdir())


@pytest.mark.parametrize("args,fragment", [
    (("ae", "--arch", "deep"), "unknown --arch 'deep'"),
    (("ae", "--widths", "784,x"), "--widths must be comma-separated"),
    (("ae", "--widths", "100,10"), "--widths must start at 784"),
    (("cae", "--arch", "strided", "--skip"), "--skip applies to --arch pool"),
    (("cae", "--arch", "pool", "--encoder", "mirror"), "--encoder applies to --arch generative only"),
    (("cae", "--latent", "0"), "--latent must be at least 1"),
    (("ae", "--arch", "linear", "--latent", "785"), "--latent must be at most 784 with --arch linear"),
    (("ae", "--arch", "linear", "--loss", "l1"), "--loss 'l1' does not suit --arch linear"),
    (("ae", "cluster", "no-such-run"), "no run matches 'no-such-run'"),
    (("cae", "generate", "no-such-run"), "no run matches"),
    (("ae", "cluster", "latest", "--mapping", "best"), "unknown --mapping 'best'"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_runs, args, fragment):
    one_line_error(invoke(*args, "--runs-dir", str(tmp_runs)), fragment)
