"""Fit-loop callbacks shared by experiments: lookahead weight averaging and a time budget."""

from __future__ import annotations

import time
from typing import Callable

import torch
from torch import nn

from nnlab.core.train import Callback, TrainState


class Lookahead(Callback):
    """Every `every` steps, pull a slow copy of the weights toward the fast (SGD) ones and
    restart SGD from it; at the last step the model takes the slow weights for good.

    The pull keeps a fraction `decay` of the slow weights, ramped as (step/total)³ up to
    `peak_decay`: early on SGD moves freely, late in training the averaging removes the
    noise of the last steps. Batch-norm statistics are averaged with the weights, so the
    final model's statistics match its weights.
    """

    def __init__(self, model: nn.Module, total_steps: int, every: int = 5, peak_decay: float = 0.95 ** 5):
        self.tensors = [t for t in model.state_dict().values() if t.is_floating_point()]
        self.slow = [t.detach().clone() for t in self.tensors]
        self.total_steps = max(1, total_steps)
        self.every = every
        self.peak_decay = peak_decay

    @torch.no_grad()
    def on_step_end(self, state: TrainState) -> None:
        """Average at every `every`-th step, and hand over the slow weights at the last one."""
        last = state.step >= self.total_steps or state.stop is not None
        if last:
            torch._foreach_copy_(self.tensors, self.slow)
        elif state.step % self.every == 0:
            decay = self.peak_decay * (state.step / self.total_steps) ** 3
            torch._foreach_lerp_(self.slow, self.tensors, 1.0 - decay)
            torch._foreach_copy_(self.tensors, self.slow)


class TimeBudget(Callback):
    """Stops training at the first step after `seconds` have passed since it was made.

    `agree` (for data-parallel runs) turns this rank's verdict into everyone's, so all ranks
    stop at the same step; it is called every step, so keep it cheap.
    """

    def __init__(self, seconds: float, agree: Callable[[bool], bool] | None = None):
        self.deadline = time.perf_counter() + seconds
        self.minutes = seconds / 60
        self.agree = agree

    def on_step_end(self, state: TrainState) -> None:
        """Set `state.stop` once the budget is spent."""
        over = time.perf_counter() > self.deadline
        if self.agree is not None:
            over = self.agree(over)
        if over:
            state.stop = f"the --max-minutes budget of {self.minutes:g} min was spent"
