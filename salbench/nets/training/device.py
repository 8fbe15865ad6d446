"""Devices and distribution: which device, bf16 support, the DDP process group."""

from __future__ import annotations

import os

import torch

from ...errors import UserError


def resolve_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        d = torch.device(device)
    except RuntimeError:
        raise UserError(f"unknown device {device!r}", hint="use auto, cpu, cuda or cuda:N") \
            from None
    if d.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"--device {device}: CUDA is not available on this machine",
                        hint="use --device cpu (or auto)")
    return d


def bf16_supported(device: torch.device) -> bool:
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    return device.type == "cpu"


def launched_by_torchrun() -> bool:
    """torchrun (torch.distributed.run) sets these for every process it starts."""
    return "TORCHELASTIC_RUN_ID" in os.environ and "LOCAL_RANK" in os.environ


def dist_info(device_type: str = "cpu") -> tuple[int, int]:
    """(rank, world size); joins the process group when launched by torchrun, one process
    included (so that the DDP path can be run on a one-GPU machine).

    The backend follows the training device: NCCL for ``cuda``, gloo otherwise.
    """
    if not launched_by_torchrun():
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        backend = "nccl" if device_type == "cuda" else "gloo"
        if backend == "nccl":
            local = int(os.environ["LOCAL_RANK"])
            gpus = torch.cuda.device_count()
            if local >= gpus:
                raise UserError(
                    f"torchrun started process {local} on this machine but it has {gpus} "
                    "GPU(s): one process per GPU",
                    hint=f"use --nproc_per_node={gpus}, or --device cpu")
            torch.cuda.set_device(local)
        dist.init_process_group(backend)
    return dist.get_rank(), dist.get_world_size()
