"""Saliency metrics under named protocols.

>>> from salbench.metrics import cc, sauc, auc_borji, score_dataset, PROTOCOLS
>>> sorted(PROTOCOLS)
['exact', 'mit', 'replication']
"""

from ._jit_cache import ensure_fresh

ensure_fresh()  # before any kernel is loaded from numba's cache

# ruff: noqa: E402
from .dataset import DatasetScores, score_dataset
from .functional import auc_borji, auc_judd, cc, center_prior, ig, kld, nss, sauc, sim
from .protocols import (
    EXACT,
    METRICS,
    MIT,
    PROTOCOLS,
    REPLICATION,
    MetricInfo,
    Protocol,
    get_protocol,
)

__all__ = [
    "EXACT", "METRICS", "MIT", "PROTOCOLS", "REPLICATION", "DatasetScores", "MetricInfo",
    "Protocol", "auc_borji", "auc_judd", "cc", "center_prior", "get_protocol", "ig", "kld",
    "nss", "sauc", "score_dataset", "sim",
]
