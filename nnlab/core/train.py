"""The one fit loop every experiment trains with.

An experiment supplies an *objective* — `objective(model, inputs, labels) -> (loss, extras)`
where `extras` maps names to batch-mean tensors (accuracy, say) — and the loop does the
rest: epochs, batches, the optimizer step, evaluation on the test split each epoch,
progress with live loss and throughput, per-step and per-epoch metrics, callbacks. An
objective that computes the gradients itself sets the parameters' `.grad` and returns its
loss detached; the loop then steps without calling `backward`.

Per-epoch means are recorded under their own names (`loss`, `acc`, ...) for each split; the
running training loss every `log_every` steps is recorded as `step_loss`, so a reader can
tell the two apart without guessing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch
from torch import nn

from nnlab.core.data import Batches
from nnlab.runs.recorder import Recorder

Objective = Callable[[nn.Module, torch.Tensor, torch.Tensor], tuple[torch.Tensor, dict[str, torch.Tensor]]]


@dataclass
class TrainState:
    """What callbacks see: the loop's position and its objects."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    epoch: int = 0  # 1-based while training
    step: int = 0  # optimizer steps taken so far
    loss: torch.Tensor | None = None  # the last step's training loss, detached (no CPU sync)
    stop: str | None = None  # set by a callback to end training early; says why (time budget, say)
    history: list["EpochResult"] = field(default_factory=list)


@dataclass
class EpochResult:
    """Mean metrics over one epoch's training batches, the validation and the test split."""

    epoch: int
    train: dict[str, float]
    test: dict[str, float]
    seconds: float
    val: dict[str, float] = field(default_factory=dict)  # empty unless fit() was given `val`


class Callback:
    """Hooks into the fit loop; override what you need."""

    def on_step_end(self, state: TrainState) -> None:
        """After each optimizer step."""

    def on_epoch_end(self, state: TrainState, result: EpochResult) -> None:
        """After each epoch's evaluation."""


class _Means:
    """Running example-weighted means kept on the device, so no step forces a CPU sync."""

    def __init__(self):
        self.sums: dict[str, torch.Tensor] = {}
        self.count = 0

    def add(self, values: dict[str, torch.Tensor], n: int) -> None:
        for name, value in values.items():
            value = value.detach() * n
            self.sums[name] = self.sums[name] + value if name in self.sums else value
        self.count += n

    def result(self) -> dict[str, float]:
        # .item() is a CPU-GPU sync point; once per epoch (or per log interval) is cheap
        return {name: (total / max(self.count, 1)).item() for name, total in self.sums.items()}


@torch.no_grad()
def evaluate(model: nn.Module, objective: Objective, batches: Batches) -> dict[str, float]:
    """Mean loss and extras of `objective` over `batches`, in eval mode."""
    was_training = model.training
    model.eval()
    means = _Means()
    for inputs, labels in batches:
        loss, extras = objective(model, inputs, labels)
        means.add({"loss": loss, **extras}, len(labels))
    model.train(was_training)
    return means.result()


def fit(model: nn.Module, optimizer: torch.optim.Optimizer, objective: Objective, train: Batches, *,
        epochs: int, recorder: Recorder, test: Batches | None = None, val: Batches | None = None,
        scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
        callbacks: Sequence[Callback] = (), log_every: int = 50,
        scaler: torch.amp.GradScaler | None = None) -> list[EpochResult]:
    """Train `model` for `epochs`; return per-epoch results (also recorded as metrics).

    `val`, if given, is evaluated each epoch like `test` and recorded as split "val" (the
    split to choose hyper-parameters on). `scheduler`, if given, steps after every optimizer step. Ctrl-C propagates as
    KeyboardInterrupt after the metrics so far are on disk. `scaler` (float16 autocast) scales
    the loss so small gradients survive half precision. A callback that sets `state.stop`
    ends training after that step: the partial epoch is evaluated and recorded, then fit returns.
    """
    state = TrainState(model, optimizer)
    for epoch in range(1, epochs + 1):
        state.epoch = epoch
        model.train()
        means, window = _Means(), _Means()
        start = time.perf_counter()
        seen = 0
        with recorder.progress(len(train), f"epoch {epoch}/{epochs}") as bar:
            for inputs, labels in train:
                optimizer.zero_grad(set_to_none=True)
                loss, extras = objective(model, inputs, labels)
                if scaler is None:
                    if loss.requires_grad:
                        loss.backward()
                    elif not _has_gradients(optimizer):
                        raise RuntimeError("the objective's loss needs no gradient, yet it filled in none")
                    optimizer.step()
                else:
                    scaler.scale(loss).backward()
                    scaler.step(optimizer)
                    scaler.update()
                if scheduler is not None:
                    scheduler.step()
                state.step += 1
                state.loss = loss.detach()
                seen += len(labels)
                means.add({"loss": loss, **extras}, len(labels))
                window.add({"loss": loss}, len(labels))
                for callback in callbacks:
                    callback.on_step_end(state)
                info = ""
                if state.step % log_every == 0:
                    recent = window.result()["loss"]
                    window = _Means()
                    recorder.metric("step_loss", recent, step=state.step, epoch=epoch, split="train")
                    info = f"loss {recent:.4g} · {seen / (time.perf_counter() - start):,.0f} img/s"
                bar.advance(1, info)
                if state.stop:
                    break
        train_metrics = means.result()
        seconds = time.perf_counter() - start
        test_metrics = evaluate(model, objective, test) if test is not None else {}
        val_metrics = evaluate(model, objective, val) if val is not None else {}
        result = EpochResult(epoch, train_metrics, test_metrics, seconds, val_metrics)
        state.history.append(result)
        _record_epoch(recorder, result, state.step, seen)
        for callback in callbacks:
            callback.on_epoch_end(state, result)
        if state.stop:
            recorder.info(f"stopped after step {state.step} (epoch {epoch}/{epochs}): {state.stop}")
            break
    return state.history


def _has_gradients(optimizer: torch.optim.Optimizer) -> bool:
    """Whether any parameter has a gradient: an objective may fill them in itself and return its
    loss detached (kmeans does: autograd's gradient, computed without building a graph)."""
    return any(p.grad is not None for group in optimizer.param_groups for p in group["params"])


def _record_epoch(recorder: Recorder, result: EpochResult, step: int, seen: int) -> None:
    for split, values in (("train", result.train), ("val", result.val), ("test", result.test)):
        for name, value in values.items():
            recorder.metric(name, value, step=step, epoch=result.epoch, split=split)
    recorder.metric("images_per_s", seen / max(result.seconds, 1e-9), step=step, epoch=result.epoch, split="train")
    parts = [f"train {k} {v:.4g}" for k, v in result.train.items()]
    parts += [f"val {k} {v:.4g}" for k, v in result.val.items()]
    parts += [f"test {k} {v:.4g}" for k, v in result.test.items()]
    recorder.info(f"epoch {result.epoch}: " + " · ".join(parts) + f" · {result.seconds:.1f}s")
