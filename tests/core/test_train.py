"""The shared fit loop: learns, records every epoch's train and test metrics, calls callbacks."""

from __future__ import annotations

import torch
from torch import nn

from nnlab.core.data import Batches, Split
from nnlab.core.metrics import accuracy
from nnlab.core.train import Callback, fit
from nnlab.runs.recorder import Recorder
from nnlab.runs.store import RunStore


def _separable(n: int, seed: int) -> Split:
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 2, (n,), generator=g)
    images = torch.randint(0, 60, (n, 1, 2, 2), generator=g, dtype=torch.uint8)
    images[labels == 1, 0, 0, 0] = 250  # class 1 lights one pixel
    return Split(images, labels)


class _Count(Callback):
    def __init__(self):
        self.steps, self.epochs = 0, []

    def on_step_end(self, state):
        self.steps += 1

    def on_epoch_end(self, state, result):
        self.epochs.append(result.epoch)


def test_fit_learns_and_records(tmp_runs):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    objective = lambda m, x, y: (nn.functional.cross_entropy(m(x), y), {"acc": accuracy(m(x), y)})
    writer = RunStore(tmp_runs).create("test", {})
    counter = _Count()
    train = Batches(_separable(256, 0), 32, generator=torch.Generator().manual_seed(0))
    history = fit(model, torch.optim.SGD(model.parameters(), lr=0.5), objective, train, epochs=5,
                  recorder=Recorder(writer), test=Batches(_separable(128, 1), 64, shuffle=False),
                  callbacks=[counter], log_every=4)
    writer.finish("completed")
    assert history[-1].test["acc"] > 0.95 and history[-1].train["loss"] < history[0].train["loss"]
    assert counter.steps == 5 * 8 and counter.epochs == [1, 2, 3, 4, 5]
    rows = RunStore(tmp_runs).get(writer.id).metrics()
    per_epoch = {(r["split"], r["name"], r["epoch"]) for r in rows if r["name"] in ("loss", "acc") and r["step"] % 8 == 0}
    assert {("test", "acc", 5), ("train", "loss", 1), ("test", "loss", 3)} <= per_epoch
    assert sum(1 for r in rows if r["name"] == "loss" and r["split"] == "train") == 5
    assert [r["step"] for r in rows if r["name"] == "step_loss"] == list(range(4, 41, 4))
