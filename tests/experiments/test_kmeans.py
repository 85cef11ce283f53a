"""The k-means network and its analysis."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from nnlab.core.data import load_dataset
from nnlab.core.models.kmeans import KMeansNet
from nnlab.experiments.kmeans.config import KMeansConfig
from nnlab.experiments.clustering import Clustering, report_clustering
from nnlab.experiments.kmeans.report import WHY_DEAD
from nnlab.experiments.kmeans.run import analyse, collapsed_centers, run
from nnlab.errors import NnlabError
from nnlab.runs.recorder import Recorder


def test_forward_matches_a_hand_computation():
    torch.manual_seed(0)
    net = KMeansNet(k=3, dim=4, temperature=20.0)
    with torch.no_grad():
        net.centers.copy_(torch.rand(3, 4))
    x = torch.rand(5, 1, 2, 2)
    out = net(x)
    C, x0 = net.centers.detach().numpy().astype(np.float64), x.reshape(5, 4).numpy().astype(np.float64)
    scores = 20 * (x0 @ C.T - 0.5 * (C ** 2).sum(1))
    weights = np.exp(scores - scores.max(1, keepdims=True))
    weights /= weights.sum(1, keepdims=True)
    assert np.allclose(out.detach().numpy(), weights @ C - x0, atol=1e-5)
    # MSE against zeros is the mean squared distance to the soft-chosen centre
    loss = nn.MSELoss()(out, torch.zeros_like(out))
    assert loss.item() == pytest.approx(((weights @ C - x0) ** 2).mean(), rel=1e-4)


def test_exemplar_init_recovers_the_classes(idx_data_dir):
    config = KMeansConfig(epochs=2, data_dir=str(idx_data_dir), device="cpu", lloyd=True)
    result = run(config, Recorder())
    table = np.array(result["network"]["table"])
    assert table.sum() == 200 == result["network"]["total"]
    assert result["network"]["accuracy"] == 1.0 and result["lloyd"]["accuracy"] == 1.0
    assert np.array_equal(table, np.diag(np.diag(table)))  # centre i holds exactly digit i
    assert result["network"]["dead_centers"] == []


def test_random_init_collapses_and_says_so(idx_data_dir):
    result = run(KMeansConfig(init="random", epochs=1, data_dir=str(idx_data_dir), lloyd=False), Recorder())
    dead = result["network"]["dead_centers"]
    assert sum(s == 0 for s in result["network"]["sizes"]) >= 5 and dead
    assert all("dead" in note or "coincide" in note for note in dead)


def test_same_seed_same_numbers(idx_data_dir):
    config = KMeansConfig(init="samples", epochs=1, data_dir=str(idx_data_dir), lloyd=False, seed=7)
    a, b = run(config, Recorder()), run(config, Recorder())
    assert a["final_train_loss"] == b["final_train_loss"] and a["network"]["table"] == b["network"]["table"]


def test_coinciding_centres_are_named():
    centers = torch.stack([torch.zeros(4), torch.zeros(4) + 1e-4, torch.ones(4)])
    notes = collapsed_centers(centers, [50, 50, 100])
    assert notes == [notes[0]] and "centres 0 and 1 coincide" in notes[0]


def test_analysis_counts_every_training_image(idx_data_dir):
    data = load_dataset("mnist", idx_data_dir)
    centers = torch.rand(4, 784)
    clustering = analyse(centers, data)
    assert clustering.table.shape == (10, 4) and clustering.table.sum() == len(data.train)
    assert sum(clustering.sizes) == len(data.train) and 0 <= clustering.nmi <= 1


@pytest.mark.parametrize("field,value", [("init", "bogus"), ("k", 0), ("batch_size", 0), ("lr", 0.0),
                                         ("dataset", "cifar"), ("temperature", -1.0), ("reduction", "batch")])
def test_bad_config_is_refused(field, value):
    with pytest.raises(NnlabError):
        KMeansConfig(**{field: value})


def test_cheat_is_an_alias_of_exemplar():
    assert KMeansConfig(init="cheat").init == "exemplar"


@pytest.mark.realdata
def test_acceptance_real_mnist_ten_epochs(shared_data):
    result = run(KMeansConfig(data_dir=str(shared_data)), Recorder())
    assert result["dataset"] == "mnist" and result["network"]["total"] == 60000
    assert result["network"]["accuracy"] > 0.5 and abs(result["network"]["inertia"] - result["lloyd"]["inertia"]) < 5


class WarningsRecorder(Recorder):
    """A silent recorder that keeps the warnings it is given."""

    def __init__(self):
        super().__init__()
        self.warnings: list[str] = []

    def warn(self, message: str) -> None:
        self.warnings.append(message)


def test_random_init_blames_the_random_pixels(idx_data_dir):
    recorder = WarningsRecorder()
    run(KMeansConfig(init="random", epochs=1, data_dir=str(idx_data_dir), lloyd=False), recorder)
    collapse = [w for w in recorder.warnings if "mode collapse" in w]
    assert collapse and "Random pixels in [0,1]" in collapse[0]


@pytest.mark.parametrize("init", ["exemplar", "samples", "kmeans++"])
def test_data_inits_explain_collapse_without_random_pixels(init):
    clustering = Clustering(np.array([[5, 0], [5, 0]]), [10, 0], 0.5, 0.0, 1.0, ["centre 1 wins no image (dead)"])
    recorder = WarningsRecorder()
    report_clustering(recorder, "network", clustering, ["0", "1"], WHY_DEAD[init])
    (text,) = recorder.warnings
    assert "centre 1 wins no image" in text and "Random pixels" not in text and f"--init {init}" in text
    if init == "exemplar":
        assert "atypical image" in text and "taken over by neighbouring centres" in text


# ---- question 1(a): the step size each centre really takes ---------------------------------

def test_one_step_of_the_meter_matches_a_hand_computation():
    from nnlab.core.train import TrainState
    from nnlab.experiments.kmeans.step import StepSizeMeter

    torch.manual_seed(0)
    net = KMeansNet(k=3, dim=4, temperature=20.0)
    with torch.no_grad():
        net.centers.copy_(torch.rand(3, 4))
    x0 = torch.rand(16, 4)
    meter = StepSizeMeter(3, "image", lr=0.3)
    meter.observe(net, x0)
    C = net.centers.detach().numpy().astype(np.float64).copy()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.3)
    error = net(x0)
    (error ** 2).sum(1).mean().backward()
    optimizer.step()
    meter.on_step_end(TrainState(net, optimizer, epoch=1, step=1, loss=torch.tensor(1.0)))
    meter.on_epoch_end(TrainState(net, optimizer, epoch=1, step=1), None)
    scores = 20 * (x0.numpy() @ C.T - 0.5 * (C ** 2).sum(1))
    w = np.exp(scores - scores.max(1, keepdims=True))
    w /= w.sum(1, keepdims=True)
    m = (w.T @ x0.numpy()) / w.sum(0)[:, None]  # the softmax-weighted batch mean of each cell
    moved = np.linalg.norm(net.centers.detach().numpy() - C, axis=1)
    expected = [a if mass >= 0.5 else None for a, mass in zip(moved / np.linalg.norm(m - C, axis=1), w.sum(0))]
    assert [None if e is None else pytest.approx(e, rel=1e-4) for e in expected] == meter.alphas[0]


def test_pixel_reduction_steps_784_times_less_than_the_seeds_alpha(idx_data_dir):
    config = KMeansConfig(epochs=1, data_dir=str(idx_data_dir), lloyd=False, device="cpu")
    result = run(config, Recorder())
    alphas, shares = result["effective_alpha"], result["batch_share"]
    assert len(alphas) == 10 and result["alpha_seed"] == pytest.approx(4.5 / 5)
    for alpha, share in zip(alphas, shares):  # α = 2η·share/784: the argmax derivation, pixels averaged too
        assert alpha == pytest.approx(2 * 4.5 * share / 784, rel=0.05)
    assert result["alpha_predicted"] == pytest.approx(4.5 / (5 * 784))
    assert np.mean(alphas) == pytest.approx(4.5 / (5 * 784), rel=0.3)


def test_image_reduction_is_the_seeds_derivation(idx_data_dir):
    result = run(KMeansConfig(epochs=1, reduction="image", data_dir=str(idx_data_dir), lloyd=False, device="cpu"),
                 Recorder())
    for alpha, share in zip(result["effective_alpha"], result["batch_share"]):
        assert alpha == pytest.approx(2 * 4.5 * share, rel=0.05)
    assert np.mean(result["effective_alpha"]) == pytest.approx(4.5 / 5, rel=0.2)  # shares are about 1/10


def test_the_seeds_reduction_at_eta_4_5_diverges_with_one_message(tmp_runs, idx_data_dir):
    from typer.testing import CliRunner

    from nnlab.cli.app import app
    from nnlab.runs.store import RunStore

    res = CliRunner().invoke(app, ["kmeans", "--reduction", "image", "--batch-size", "8", "--epochs", "10",
                                   "--no-lloyd", "--device", "cpu", "--data-dir", str(idx_data_dir),
                                   "--runs-dir", str(tmp_runs), "--json"])
    assert res.exit_code == 1, res.output
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "diverged at step" in errors[0] and "--reduction pixel" in errors[0]
    assert "nan" not in res.output.lower() and "Traceback" not in res.output and res.stdout == ""
    (run_,) = RunStore(tmp_runs).runs()
    assert run_.status == "failed"
