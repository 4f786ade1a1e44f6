"""Where training runs: the device, the number of CPU threads, mixed precision."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import torch

from accord.errors import AccordError


def available_cores() -> int:
    """CPU cores this process may use: its affinity mask, capped by a cgroup CPU quota.

    ``os.cpu_count()`` reports the host's cores; in a container limited to 2 of 64 cores,
    64 threads would thrash, so the quota (``/sys/fs/cgroup/cpu.max``) wins. A set
    ``OMP_NUM_THREADS`` caps the result.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, int(int(quota) // int(period))))
    except (OSError, ValueError):
        pass
    # The usual way to ask for fewer threads (e.g. when sharing the machine) is honoured.
    with contextlib.suppress(ValueError):
        cores = min(cores, int(os.environ.get("OMP_NUM_THREADS", "")))
    return max(1, cores)


def pick_device(name: str | None) -> torch.device:
    """``name`` as a device, or CUDA when present and the CPU otherwise."""
    if name is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as err:
        raise AccordError(f"unknown device {name!r}; use 'cpu', 'cuda' or 'cuda:N'") from err
    if device.type == "cuda" and not torch.cuda.is_available():
        raise AccordError(f"device {name!r} was asked for but CUDA is not available here; "
                          "use device='cpu' or leave it unset")
    return device


def uses_bf16(device: torch.device) -> bool:
    """bf16 autocast on a GPU that supports it; fp32 everywhere else (CPU bf16 is slow)."""
    return device.type == "cuda" and torch.cuda.is_bf16_supported()


def autocast(device: torch.device) -> contextlib.AbstractContextManager:
    """The mixed-precision context for a forward pass on ``device``."""
    if uses_bf16(device):
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


@contextlib.contextmanager
def cpu_threads(n: int | None) -> Iterator[int]:
    """Use ``n`` intra-op threads (default: the cores available) and restore on exit."""
    before = torch.get_num_threads()
    n = n or available_cores()
    torch.set_num_threads(n)
    try:
        yield n
    finally:
        torch.set_num_threads(before)
