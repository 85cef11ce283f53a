"""`nnlab cnn`: the MNIST CNN of problem 4.2, its filters and its confusion matrix.

Trains through the shared fit loop, then shows the first-layer filters, the test confusion
matrix, the most-confused pairs, per-class accuracy and the misclassified images.
"""

from __future__ import annotations

import torch
from torch import nn

from nnlab.core.classification import classification_objective, standardiser
from nnlab.core.data import Batches, Split
from nnlab.core.models.classifiers import CNN
from nnlab.core.train import fit
from nnlab.experiments.base import Setup, prepare
from nnlab.experiments.classifiers.config import CNNConfig
from nnlab.experiments.classifiers.report import report_confusion, report_filters, report_misclassified
from nnlab.runs.recorder import Recorder

EVAL_BATCH = 2048


@torch.no_grad()
def predict(model: nn.Module, split: Split, transform) -> torch.Tensor:
    """Predicted labels for the whole split, in eval mode."""
    model.eval()
    return torch.cat([model(x).argmax(1) for x, _ in Batches(split, EVAL_BATCH, shuffle=False, transform=transform)])


def run(config: CNNConfig, recorder: Recorder, setup: Setup | None = None) -> dict:
    """Train the CNN and analyse its test errors."""
    setup = prepare(config, recorder, setup)
    data, device = setup.data, setup.device
    transform = standardiser(data.train)
    model = CNN(classes=len(data.classes)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    train = Batches(data.train, config.batch_size, generator=setup.generator, transform=transform)
    test = Batches(data.test, EVAL_BATCH, shuffle=False, transform=transform)
    history = fit(model, optimizer, classification_objective(), train, epochs=config.epochs, recorder=recorder,
                  test=test)
    torch.save(model.state_dict(), recorder.artifact("model.pt"))

    report_filters(recorder, model.conv1.weight)
    predicted = predict(model, data.test, transform)
    test_acc = float((predicted == data.test.labels).float().mean())
    result = report_confusion(recorder, data.test.labels.cpu().numpy(), predicted.cpu().numpy(), data.classes)
    errors = report_misclassified(recorder, data.test, predicted, data.classes)
    recorder.info(f"test accuracy {100 * test_acc:.2f}% ({errors} of {len(data.test):,} misclassified)")
    summary = {"test_acc": test_acc, "test_loss": history[-1].test["loss"], "train_loss": history[-1].train["loss"],
               "misclassified": errors}
    recorder.summary(summary)
    return {"dataset": data.name, **summary, **result}
