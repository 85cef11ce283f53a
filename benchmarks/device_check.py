"""The GPU check behind benchmarks/device_check.sh: every training command on the device, then
the CIFAR-10 recipe beside airbench94 on the same random data, in one table.

1. Each training command runs once, briefly, with `--device DEVICE` on data written here in the
   real on-disk formats (IDX for MNIST/Fashion-MNIST, python batches for CIFAR-10, the writers
   the tests use), and its run.json must record that device.
2. `nnlab cifar`'s training function runs on CIFAR-shaped random images (uint8, made resident on
   the device by the recipe itself): one short warm-up run first (cuDNN autotuning, compilation),
   then EPOCHS timed epochs, each timed with CUDA events around the training loop and a
   synchronize (evaluation, figures and start-up excluded).
3. airbench94 (`pip install airbench`, a benchmark-only dependency) trains its own network with
   its own loop on the very same images, timed the same way, after its own warm-up.
It prints nnlab/airbench (time to EPOCHS epochs; below 1 means nnlab is faster) and the peak
GPU memory of each. `--tiny` runs on the CPU with tiny data and widths, and skips what needs CUDA.

    python benchmarks/device_check.py [--tiny] [--device cuda] [--epochs 10]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the real-format dataset writers the tests use
from cifar_files import write_cifar_folder  # noqa: E402
from idx import write_idx_dataset  # noqa: E402

COMMAND_TIMEOUT_S = 180
ROWS: list[tuple[str, str, str, str]] = []  # (check, result, seconds, detail): the one table


def row(check: str, result: str, seconds: float | None, detail: str) -> None:
    """Add a line to the table (and say it at once on stderr, so a slow check shows progress)."""
    ROWS.append((check, result, f"{seconds:.1f}" if seconds is not None else "-", detail))
    print(f"  {check}: {result} {detail}", file=sys.stderr, flush=True)


# ---- 1. every training command on the device ---------------------------------------------

def commands(tiny: bool) -> dict[str, list[str]]:
    """Each training command with flags for one short run."""
    cifar = ["--epochs", "1", "--batch-size", "64", "--widths", "8,16,16"] if tiny else ["--epochs", "1"]
    return {
        "kmeans": ["kmeans", "--epochs", "1"],
        "ae": ["ae", "--arch", "mlp4", "--epochs", "1", "--dataset", "mnist"],
        "cae": ["cae", "--arch", "pool", "--epochs", "1", "--dataset", "mnist"],
        "cnn": ["cnn", "--epochs", "1"],
        "mlp": ["mlp", "--epochs", "1"],
        "mlp tune": ["mlp", "tune", "--trials", "2", "--sampler", "grid", "--layers", "1", "--units", "8",
                     "--lr", "0.01,0.02", "--batch-size", "64", "--epochs", "1", "--l2", "0", "--no-retrain"],
        "landscape": ["landscape", "--epochs", "1", "--grid", "5" if tiny else "11", "--subset", "200",
                      "--snapshots", "2"],
        "cifar": ["cifar", *cifar],
    }


def write_data(root: Path, tiny: bool) -> Path:
    """MNIST, Fashion-MNIST and CIFAR-10 in their real formats: tiny, or full-sized (random pixels)."""
    n_train, n_test = (256, 64) if tiny else (60_000, 10_000)
    for folder in ("MNIST", "FashionMNIST"):
        write_idx_dataset(root, folder, n_train=n_train, n_test=n_test)
    write_cifar_folder(root, n_train=200 if tiny else 50_000, n_test=100 if tiny else 10_000)
    return root


def check_commands(device: str, tiny: bool, work: Path) -> bool:
    """Run every command; True when each exited 0 and every run.json it wrote records `device`."""
    data = write_data(work / "data", tiny)
    env = {**os.environ, "NNLAB_OFFLINE": "1", "COLUMNS": "100"}
    passed = True
    for name, argv in commands(tiny).items():
        runs = work / "runs" / name.replace(" ", "-")
        full = [sys.executable, "-m", "nnlab", *argv, "--device", device, "--data-dir", str(data),
                "--runs-dir", str(runs), "--json"]
        start = time.perf_counter()
        try:
            done = subprocess.run(full, capture_output=True, text=True, env=env, timeout=COMMAND_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            row(name, "FAIL", time.perf_counter() - start, f"still running after {COMMAND_TIMEOUT_S} s")
            passed = False
            continue
        seconds = time.perf_counter() - start
        records = [json.loads(p.read_text()) for p in runs.glob("*/run.json")]
        # the command's own run (mlp tune's trials are child runs, which record no device of their own)
        recorded = sorted({r.get("device") or "none" for r in records if not r.get("parent")})
        ok = done.returncode == 0 and bool(recorded) and all(d.startswith(device) for d in recorded)
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1][:60]
        detail = f"run.json device {', '.join(recorded) or 'missing'}" + ("" if ok else f"; exit {done.returncode}: {tail}")
        row(name, "ok" if ok else "FAIL", seconds, detail)
        passed &= ok
    return passed


# ---- 2. the CIFAR recipe, timed with CUDA events --------------------------------------------

class EpochTimer:
    """Times each epoch's training loop: the fit loop opens recorder.progress() around exactly that."""

    def __init__(self, device: torch.device):
        self.device = device
        self.marks: list[tuple] = []

    def stamp(self):
        if self.device.type == "cuda":
            event = torch.cuda.Event(enable_timing=True)
            event.record()
            return event
        return time.perf_counter()

    def seconds(self) -> list[float]:
        """Seconds of each timed epoch (synchronizes the device once)."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            return [start.elapsed_time(end) / 1000 for start, end in self.marks]
        return [end - start for start, end in self.marks]


def timing_recorder(timer: EpochTimer):
    """A silent Recorder whose progress context stamps the start and end of each epoch."""
    from contextlib import contextmanager

    from nnlab.runs.recorder import Recorder

    class Timing(Recorder):
        @contextmanager
        def progress(self, total, description=""):
            start = timer.stamp()
            with super().progress(total, description) as bar:
                yield bar
            timer.marks.append((start, timer.stamp()))

    return Timing()


def random_cifar(n: int, n_test: int):
    """CIFAR-shaped random images and labels (throughput does not depend on the pixels)."""
    from nnlab.core.data import Dataset, Split

    g = torch.Generator().manual_seed(0)

    def split(m: int) -> Split:
        return Split(torch.randint(0, 256, (m, 3, 32, 32), dtype=torch.uint8, generator=g),
                     torch.randint(0, 10, (m,), generator=g))

    return Dataset("random", split(n), split(n_test), [f"class {i}" for i in range(10)], "random")


def peak_memory(device: torch.device) -> float | None:
    """Peak allocated GPU memory in GB since the last reset (None off CUDA)."""
    return torch.cuda.max_memory_allocated(device) / 1e9 if device.type == "cuda" else None


def time_nnlab(data, device: torch.device, epochs: int, tiny: bool) -> dict:
    """Warm up, then time `epochs` epochs of the CIFAR recipe; seconds per epoch and in total."""
    from nnlab.core.distributed import World
    from nnlab.experiments.cifar.config import CifarConfig
    from nnlab.experiments.cifar.train import train

    shape = {"widths": "8,16,16", "batch_size": 64} if tiny else {}
    warm = CifarConfig(epochs=1, device=str(device), **shape)
    train(warm, data, World(0, 1, device), timing_recorder(EpochTimer(device)))
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    timer = EpochTimer(device)
    result = train(CifarConfig(epochs=epochs, device=str(device), **shape), data, World(0, 1, device),
                   timing_recorder(timer))
    seconds = timer.seconds()
    return {"epochs": seconds, "total": sum(seconds), "peak_gb": peak_memory(device),
            "precision": result["precision"]}


# ---- 3. airbench94 on the same images ------------------------------------------------------

def time_airbench(data, device: torch.device, epochs: int) -> dict:
    """airbench94's network and training loop on `data`, after its own one-epoch warm-up."""
    import airbench
    from airbench import CifarLoader
    from airbench.lib_airbench94 import hyp

    work = Path(tempfile.mkdtemp(prefix="airbench-"))
    (work / "cifar10").mkdir()
    for name, split in (("train.pt", data.train), ("test.pt", data.test)):  # its loader's own format: NHWC uint8
        torch.save({"images": split.images.permute(0, 2, 3, 1).contiguous(), "labels": split.labels,
                    "classes": data.classes}, work / "cifar10" / name)

    class TimedLoader(CifarLoader):
        """Stamps the start of each pass: epoch k lasts until pass k+1 starts (the last until the end)."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.starts: list = []

        def __iter__(self):
            event = torch.cuda.Event(enable_timing=True)
            event.record()
            self.starts.append(event)
            yield from super().__iter__()

    here = os.getcwd()
    os.chdir(work)  # airbench's train() opens its test set at the relative path cifar10/
    try:
        def loader():
            return TimedLoader("cifar10", train=True, batch_size=hyp["opt"]["batch_size"], aug=hyp["aug"],
                               altflip=True, gpu=device.index or 0)

        airbench.train94(loader(), epochs=1, verbose=False)  # warm-up: cuDNN autotuning
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        timed = loader()
        airbench.train94(timed, epochs=epochs, verbose=False)
        end = torch.cuda.Event(enable_timing=True)
        end.record()
        torch.cuda.synchronize(device)
    finally:
        os.chdir(here)
    marks = [*timed.starts, end]
    seconds = [a.elapsed_time(b) / 1000 for a, b in zip(marks, marks[1:])]
    return {"epochs": seconds, "total": sum(seconds), "peak_gb": peak_memory(device)}


def describe(result: dict, epochs: int) -> str:
    later = result["epochs"][1:] or result["epochs"]
    memory = f", peak {result['peak_gb']:.2f} GB" if result.get("peak_gb") is not None else ""
    return f"{sum(later) / len(later):.3f} s/epoch (epochs 2+), {result['total']:.2f} s to {epochs} epochs{memory}"


def check_cifar_speed(device: torch.device, epochs: int, tiny: bool) -> None:
    """Time nnlab's recipe and airbench94 on the same data; add their rows and the ratio."""
    data = random_cifar(512, 128) if tiny else random_cifar(50_000, 10_000)
    start = time.perf_counter()
    ours = time_nnlab(data, device, epochs, tiny)
    row("cifar recipe (nnlab)", "ok", time.perf_counter() - start, describe(ours, epochs) + f", {ours['precision']}")
    if device.type != "cuda":
        row("airbench94", "skipped", None, "needs CUDA: its network is built with .half().cuda()")
        return
    try:
        import airbench  # noqa: F401
    except ImportError:
        row("airbench94", "skipped", None, "not installed (pip install airbench; device_check.sh does it)")
        return
    start = time.perf_counter()
    theirs = time_airbench(data, device, epochs)
    row("airbench94", "ok", time.perf_counter() - start, describe(theirs, epochs))
    row("nnlab / airbench94", f"{ours['total'] / theirs['total']:.2f}", None,
        f"time to {epochs} epochs, same {len(data.train):,} images, same GPU (below 1: nnlab is faster)")


# ---- the table ------------------------------------------------------------------------------

def main() -> int:
    """Run the checks, print the table; exit 1 if a command failed its device check."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="CPU, tiny data and widths: a quick self-test")
    parser.add_argument("--device", default=None, help="default: cuda (cpu with --tiny)")
    parser.add_argument("--epochs", type=int, default=None, help="timed CIFAR epochs (default 10, 2 with --tiny)")
    args = parser.parse_args()
    device_name = args.device or ("cpu" if args.tiny else "cuda")
    epochs = args.epochs or (2 if args.tiny else 10)
    if device_name.startswith("cuda") and not torch.cuda.is_available():
        print("error: no CUDA device here; run with --tiny for the CPU self-test", file=sys.stderr)
        return 2
    device = torch.device(device_name)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"device check on {where}; torch {torch.__version__}"
          + (f", CUDA {torch.version.cuda}" if device.type == "cuda" else "") + (" (--tiny)" if args.tiny else ""),
          file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="nnlab-device-check-") as work:
        passed = check_commands(device.type, args.tiny, Path(work))
        check_cifar_speed(device, epochs, args.tiny)
    widths = [max(len(r[i]) for r in ROWS + [("check", "result", "s", "detail")]) for i in range(4)]
    print(f"device check on {where}, torch {torch.__version__}")
    for line in [("check", "result", "s", "detail"), *ROWS]:
        print("  ".join(cell.ljust(w) if i != 2 else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(line, widths))).rstrip())
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
