"""Time one training epoch of every autoencoder preset on N resident 28x28 images.

Usage: python benchmarks/ae_epoch.py [--n 60000] [--device cpu] [--threads 2] [--arch pool ...]

The images are random uint8 (throughput does not depend on pixel values), kept resident and
batched by indexing exactly as in a real run; each preset trains with its own batch size,
optimizer and objective through the shared fit loop. Prints a table: preset, batch size,
parameters, seconds, images per second.
"""

from __future__ import annotations

import argparse
import time

import torch

from nnlab.core.data import Batches, Split
from nnlab.core.device import resolve_device, seed_everything
from nnlab.core.train import fit
from nnlab.experiments.autoencoders.config import AE_PRESETS, CAE_PRESETS, AEConfig, CAEConfig
from nnlab.experiments.autoencoders.run import build_model, make_objective, make_optimizer
from nnlab.runs.recorder import Recorder

PRESETS = [("ae", arch) for arch in AE_PRESETS] + [("cae", arch) for arch in CAE_PRESETS] + [("cae", "pool-skip")]


def config_for(family: str, arch: str, device: str):
    """The preset's config; `pool-skip` is the pool preset with skip connections."""
    if family == "ae":
        return AEConfig(arch=arch, device=device)
    if arch == "pool-skip":
        return CAEConfig(arch="pool", skip=True, device=device)
    return CAEConfig(arch=arch, device=device)


def time_epoch(config, split: Split, device: torch.device) -> tuple[int, float]:
    """Seconds for one epoch over `split`, after a few warm-up steps; and the parameter count."""
    generator = seed_everything(0)
    model = build_model(config).to(device)
    optimizer, objective = make_optimizer(config, model), make_objective(config, model)
    warm = Split(split.images[:4 * config.batch_size], split.labels[:4 * config.batch_size])
    fit(model, optimizer, objective, Batches(warm, config.batch_size, generator=generator), epochs=1, recorder=Recorder())
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    fit(model, optimizer, objective, Batches(split, config.batch_size, generator=generator), epochs=1, recorder=Recorder())
    if device.type == "cuda":
        torch.cuda.synchronize()  # kernels run asynchronously: wait before reading the clock
    return sum(p.numel() for p in model.parameters()), time.perf_counter() - start


def main() -> None:
    """Parse arguments, time each preset, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60_000, help="images per epoch")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--arch", nargs="*", default=None, help="presets to time, e.g. mlp4 pool vae")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    images = torch.randint(0, 256, (args.n, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    split = Split(images, torch.zeros(args.n, dtype=torch.long)).to(device)
    print(f"one epoch of {args.n:,} images on {device} ({torch.get_num_threads()} CPU threads)")
    print(f"{'preset':<16}{'batch':>6}{'params':>10}{'seconds':>9}{'img/s':>9}")
    for family, arch in PRESETS:
        if args.arch and arch not in args.arch:
            continue
        config = config_for(family, arch, args.device)
        params, seconds = time_epoch(config, split, device)
        print(f"{family + ' ' + arch:<16}{config.batch_size:>6}{params:>10,}{seconds:>9.1f}{args.n / seconds:>9,.0f}", flush=True)


if __name__ == "__main__":
    main()
