"""The calculators' tests run torch on tiny tensors: one thread, since syncing two threads costs
more than the work (and the CI box is shared)."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
