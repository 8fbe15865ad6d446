"""Training the shallow networks: a torch-free config and log reader, and the torch parts
(device setup, data on the device, checkpoints, the loop, prediction) in their own modules.

``from salbench.nets.training import TrainConfig, read_log`` imports no torch; the loop
is :func:`salbench.nets.training.loop.train`.
"""

from .config import SCHEDULE_FIELDS, TrainConfig, TrainResult
from .log import read_log

__all__ = ["SCHEDULE_FIELDS", "TrainConfig", "TrainResult", "read_log"]
