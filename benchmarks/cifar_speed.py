"""Training images per second of `nnlab cifar` on synthetic CIFAR-shaped data.

Usage: python benchmarks/cifar_speed.py [--n 4096] [--epochs 3] [--device auto] [--threads 1]
       [--batch-size 1024] [--widths 64,256,256] [--precision auto] [--compile]

The images are random uint8 (3, 32, 32) with random labels: throughput does not depend on
pixel values. They go through the experiment's own training function (resident data, device
augmentation, autocast, lookahead, the shared fit loop), so the figure is the one a real run
reports. Prints one row per epoch: seconds of training (test evaluation excluded) and images
per second; the first epoch includes one-off start-up (and compilation with --compile). For a
GPU run at the defaults, use --n 50000 --epochs 10 and compare the later epochs' seconds with
published per-epoch figures (airbench94: 3.83 s for about 10 epochs on an A100).
"""

from __future__ import annotations

import argparse
import time

import torch

from nnlab.core.data import Dataset, Split
from nnlab.core.distributed import World
from nnlab.core.device import resolve_device
from nnlab.experiments.cifar.config import CifarConfig
from nnlab.experiments.cifar.train import train
from nnlab.runs.recorder import Recorder


class _Collect(Recorder):
    """A silent recorder that keeps each epoch's images/s, test excluded."""

    def __init__(self):
        super().__init__()
        self.rates: list[float] = []

    def metric(self, name, value, *, step=None, epoch=None, split=None) -> None:
        if name == "images_per_s":
            self.rates.append(value)


def synthetic(n: int, n_test: int) -> Dataset:
    """A CIFAR-shaped dataset of random images and labels."""
    g = torch.Generator().manual_seed(0)

    def split(m: int) -> Split:
        return Split(torch.randint(0, 256, (m, 3, 32, 32), dtype=torch.uint8, generator=g),
                     torch.randint(0, 10, (m,), generator=g))

    return Dataset("synthetic", split(n), split(n_test), [str(i) for i in range(10)], "synthetic")


def main() -> None:
    """Parse arguments, train, print the per-epoch table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4096, help="training images per epoch")
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--widths", default="64,256,256")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--compile", action="store_true")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    config = CifarConfig(epochs=args.epochs, batch_size=args.batch_size, widths=args.widths,
                         precision=args.precision, compile=args.compile, device=args.device)
    recorder = _Collect()
    cpu_start = time.process_time()
    result = train(config, synthetic(args.n, args.n_test), World(0, 1, device), recorder)
    cpu_seconds = time.process_time() - cpu_start
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu, {torch.get_num_threads()} threads"
    print(f"nnlab cifar on {name}: {args.n:,} images/epoch, batch {args.batch_size}, widths {args.widths}, "
          f"precision {result['precision']}{', compiled' if args.compile else ''}")
    print(f"{'epoch':>5}{'seconds':>10}{'img/s':>10}")
    for epoch, rate in enumerate(recorder.rates, start=1):
        print(f"{epoch:>5}{args.n / rate:>10.2f}{rate:>10,.0f}")
    later = recorder.rates[1:] or recorder.rates
    print(f"mean of epochs 2+: {sum(later) / len(later):,.0f} img/s; wall {result['wall_s']:.1f} s "
          "(including start-up, test evaluation and final predictions)")
    if device.type == "cpu":  # on a shared machine wall-clock rates depend on the load; CPU time much less
        print(f"process CPU time {cpu_seconds:.1f} s: {args.n * args.epochs / cpu_seconds:,.0f} training images "
              "per CPU-second (a lower bound: evaluation is included)")


if __name__ == "__main__":
    main()
