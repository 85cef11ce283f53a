"""Time one epoch of k-means training: nnlab's resident-tensor batches vs the homework loop.

The homework loop is the PyTorch-tutorial style the assignment starts from: a torchvision
Dataset with ToTensor (one PIL image per sample), a DataLoader with batch 64, the same
model, loss and optimizer. nnlab keeps the split as one uint8 tensor and slices batches.

    python benchmarks/kmeans_epoch.py --data-dir ../shared/data [--epochs 10]
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import torch
from torch import nn


def homework_epoch(root: Path, model: nn.Module) -> float:
    """One epoch the tutorial way; returns seconds."""
    from torchvision import datasets, transforms

    from nnlab.core.data import _idx_root

    dataset = datasets.MNIST(str(_idx_root("mnist", root, False)), train=True, transform=transforms.ToTensor())
    loader = torch.utils.data.DataLoader(dataset, batch_size=64, shuffle=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=4.5)
    loss_fn = nn.MSELoss()
    start = time.perf_counter()
    for x, _ in loader:
        error = model(x)
        loss = loss_fn(error, torch.zeros_like(error))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def nnlab_epochs(root: Path, model: nn.Module, epochs: int) -> list[float]:
    """`epochs` epochs through nnlab's Batches and fit loop (no test pass); returns seconds each."""
    from nnlab.core.data import Batches, load_dataset
    from nnlab.core.train import fit
    from nnlab.runs.recorder import Recorder

    data = load_dataset("mnist", root)
    loss_fn = nn.MSELoss()

    def objective(net, x, _y):
        error = net(x)
        return loss_fn(error, torch.zeros_like(error)), {}

    batches = Batches(data.train, 64, generator=torch.Generator().manual_seed(0))
    history = fit(model, torch.optim.SGD(model.parameters(), lr=4.5), objective, batches,
                  epochs=epochs, recorder=Recorder())
    return [h.seconds for h in history]


def main() -> None:
    """Print a table of seconds per epoch, images per second and the speed-up."""
    from nnlab.core.models.kmeans import KMeansNet

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--epochs", type=int, default=10, help="nnlab epochs to time (the homework loop runs one)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    init = torch.rand(10, 784) * 0.1
    homework = KMeansNet()
    ours = KMeansNet()
    with torch.no_grad():
        homework.centers.copy_(init)
        ours.centers.copy_(init)
    slow = homework_epoch(args.data_dir, homework)
    fast = nnlab_epochs(args.data_dir, ours, args.epochs)
    best = min(fast)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, 60,000 images, batch 64")
    print(f"{'loop':<34}{'s/epoch':>10}{'images/s':>12}")
    print(f"{'homework (Dataset+ToTensor+DataLoader)':<34}{slow:>10.2f}{60000 / slow:>12,.0f}")
    print(f"{'nnlab (resident uint8, indexing)':<34}{best:>10.2f}{60000 / best:>12,.0f}")
    print(f"speed-up: {slow / best:.1f}x   nnlab {args.epochs} epochs: {sum(fast):.1f} s   peak RSS {peak_mb:,.0f} MB")
    print("nnlab seconds per epoch: " + " ".join(f"{s:.2f}" for s in fast))


if __name__ == "__main__":
    main()
