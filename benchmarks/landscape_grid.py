"""Grid points per second of `nnlab landscape`'s loss evaluation: batched (vmap) against point by point.

Usage: python benchmarks/landscape_grid.py [--grid 31] [--n 2500] [--chunks 1 16 64 256] [--device cpu]

The MLP is nnlab's default (3 hidden layers of 50 units), the examples are N random
standardised images (the cost does not depend on their values), and the plane is spanned by
two random directions. "loop" loads each point's parameters into the model and calls it,
one point at a time, as a Python loop would; "vmap/B" evaluates B points per call through
torch.func.functional_call under vmap, as `nnlab landscape --chunk B` does. Prints a table:
method, points, seconds, points per second, and the largest difference from the loop.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.nn import functional as F
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from nnlab.core.device import resolve_device
from nnlab.core.models.classifiers import MLP
from nnlab.experiments.landscape.run import grid_coords, plane_losses


def sync(device: torch.device) -> None:
    """Wait for queued GPU work, so the clock measures the work itself."""
    if device.type == "cuda":
        torch.cuda.synchronize()


@torch.no_grad()
def loop_losses(model, origin, directions, points, images, labels) -> torch.Tensor:
    """The baseline: one forward pass per grid point."""
    out = []
    for a, b in points.tolist():
        vector_to_parameters(origin + a * directions[0] + b * directions[1], model.parameters())
        out.append(F.cross_entropy(model(images), labels))
    vector_to_parameters(origin, model.parameters())
    return torch.stack(out)


def main() -> None:
    """Time each method on the same grid and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=int, default=31)
    parser.add_argument("--n", type=int, default=2500)
    parser.add_argument("--chunks", type=int, nargs="+", default=[1, 16, 64, 256])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    torch.manual_seed(0)
    model = MLP().to(device).eval()
    images = torch.randn(args.n, 1, 28, 28, device=device)
    labels = torch.randint(0, 10, (args.n,), device=device)
    origin = parameters_to_vector(model.parameters()).detach()
    directions = torch.randn(2, len(origin), device=device) * 0.05
    _, _, points = grid_coords([(-1.0, 1.0), (-1.0, 1.0)], args.grid)

    rows = []
    start = time.perf_counter()
    reference = loop_losses(model, origin, directions, points, images, labels)
    sync(device)
    rows.append(("loop", time.perf_counter() - start, 0.0))
    for chunk in args.chunks:
        plane_losses(model, origin, directions, points[:chunk], images, labels, chunk)  # warm-up
        sync(device)
        start = time.perf_counter()
        losses = plane_losses(model, origin, directions, points, images, labels, chunk)
        sync(device)
        rows.append((f"vmap/{chunk}", time.perf_counter() - start, float((losses - reference).abs().max())))

    print(f"{len(points)} grid points, {args.n} examples, MLP 784-50-50-50-10, {device}, "
          f"{torch.get_num_threads()} threads")
    print(f"{'method':<10} {'seconds':>8} {'points/s':>10} {'max |diff|':>11}")
    for name, seconds, diff in rows:
        print(f"{name:<10} {seconds:>8.2f} {len(points) / seconds:>10,.0f} {diff:>11.2e}")


if __name__ == "__main__":
    main()
