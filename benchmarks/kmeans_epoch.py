"""Time k-means training: one epoch of nnlab's resident-tensor batches vs the homework loop, or
`nnlab kmeans` end to end vs a plain reference script.

The homework loop is the PyTorch-tutorial style the assignment starts from: a torchvision
Dataset with ToTensor (one PIL image per sample), a DataLoader with batch 64, the same
model, loss and optimizer. nnlab keeps the split as one uint8 tensor and slices batches.

With --end-to-end N, both programs run N times, alternately, each in a fresh process:
- `nnlab kmeans --init exemplar` (10 epochs, Lloyd from the same start, figures, tables, the run saved);
- the plain reference (REFERENCE below): MNIST read with gzip+numpy into one float tensor, the same
  network trained by a plain randperm loop for 10 epochs, then scikit-learn's Lloyd from the same
  start (the exemplars nnlab's --seed 0 draws, so Lloyd does the same 122 iterations); no figures.
It prints the minimum wall and CPU time of each (the fairest figures on a shared machine) and their
ratios. The ratio's target is at most 0.75. Set OMP_NUM_THREADS=1 for one thread in both; CPU
seconds then stand for a quiet machine's wall time.

    python benchmarks/kmeans_epoch.py --data-dir ../shared/data [--epochs 10]
    OMP_NUM_THREADS=1 python benchmarks/kmeans_epoch.py --data-dir ../shared/data --end-to-end 3
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn


def homework_epoch(root: Path, model: nn.Module) -> float:
    """One epoch the tutorial way; returns seconds."""
    from torchvision import datasets, transforms

    from nnlab.core.data.idx import prepare

    # nnlab unpacks .gz-only (even read-only) folders into a root torchvision can read
    dataset = datasets.MNIST(str(prepare("mnist", root)), train=True, transform=transforms.ToTensor())
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


REFERENCE = """
import gzip
import sys
from pathlib import Path

import numpy as np
import torch
from sklearn.cluster import KMeans

from nnlab.core.models.kmeans import KMeansNet

raw, epochs = Path(sys.argv[1]) / "MNIST" / "raw", int(sys.argv[2])
pixels = np.frombuffer(gzip.open(raw / "train-images-idx3-ubyte.gz").read(), np.uint8, offset=16)
targets = torch.from_numpy(np.frombuffer(gzip.open(raw / "train-labels-idx1-ubyte.gz").read(), np.uint8, offset=8))
x = torch.from_numpy(pixels.reshape(-1, 784).copy()).float() / 255
g = torch.Generator().manual_seed(0)
picks = []  # exemplar: a random image of each digit, drawn as nnlab's --seed 0 draws them (same Lloyd start)
for d in range(10):
    members = torch.nonzero(targets == d).flatten()
    picks.append(int(members[torch.randint(len(members), (1,), generator=g)]))
model = KMeansNet()
with torch.no_grad():
    model.centers.copy_(x[picks])
optimizer = torch.optim.SGD(model.parameters(), lr=4.5)
for _ in range(epochs):
    for batch in torch.randperm(len(x), generator=g).split(64):
        error = model(x[batch])
        loss = (error ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
lloyd = KMeans(n_clusters=10, init=x[picks].numpy(), n_init=1, algorithm="lloyd").fit(x.numpy())
print(f"network loss {loss.item():.5f}; Lloyd inertia {lloyd.inertia_:.1f} after {lloyd.n_iter_} iterations")
"""


def _child_cpu() -> float:
    """User + system CPU seconds of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def end_to_end(root: Path, repeats: int, epochs: int) -> None:
    """Wall and CPU seconds of `nnlab kmeans` and of the plain reference, alternately, `repeats` times."""
    env = {**os.environ, "NNLAB_OFFLINE": "1"}
    with tempfile.TemporaryDirectory(prefix="kmeans-e2e-") as runs:
        programs = {
            "nnlab kmeans --init exemplar": [sys.executable, "-m", "nnlab", "kmeans", "--init", "exemplar",
                                             "--epochs", str(epochs), "--data-dir", str(root), "--runs-dir", runs,
                                             "--images", "none"],
            "plain reference (loop + scikit-learn Lloyd)": [sys.executable, "-c", REFERENCE, str(root), str(epochs)],
        }
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in programs}
        for _ in range(repeats):
            for name, argv in programs.items():
                start, cpu = time.perf_counter(), _child_cpu()
                subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                times[name].append((time.perf_counter() - start, _child_cpu() - cpu))
    threads = os.environ.get("OMP_NUM_THREADS", "torch's default")
    print(f"end to end, {epochs} epochs + Lloyd on 60,000 MNIST images, OMP_NUM_THREADS={threads}, "
          f"{repeats} runs each")
    print(f"{'program':<46}{'min wall s':>11}{'min CPU s':>11}   all runs, wall/CPU (s)")
    for name, runs_ in times.items():
        walls, cpus = zip(*runs_)
        print(f"{name:<46}{min(walls):>11.1f}{min(cpus):>11.1f}   "
              + "  ".join(f"{w:.1f}/{c:.1f}" for w, c in runs_))
    (nnlab_wall, plain_wall), (nnlab_cpu, plain_cpu) = ([min(x[i] for x in v) for v in times.values()] for i in (0, 1))
    print(f"ratio nnlab / plain: {nnlab_wall / plain_wall:.2f} wall, {nnlab_cpu / plain_cpu:.2f} CPU (target <= 0.75; "
          "one thread each, so CPU seconds stand for a quiet machine's wall)")


def main() -> None:
    """Print a table of seconds per epoch, images per second and the speed-up."""
    from nnlab.core.models.kmeans import KMeansNet

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--epochs", type=int, default=10, help="nnlab epochs to time (the homework loop runs one)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--end-to-end", type=int, default=0, metavar="N",
                        help="instead: time `nnlab kmeans` and the plain reference script end to end, N runs each")
    args = parser.parse_args()
    if args.end_to_end:
        end_to_end(args.data_dir, args.end_to_end, args.epochs)
        return
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
