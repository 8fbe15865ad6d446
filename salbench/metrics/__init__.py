"""Saliency metrics under named protocols.

>>> from salbench.metrics import cc, sauc, auc_borji, score_dataset, PROTOCOLS
>>> sorted(PROTOCOLS)
['exact', 'mit', 'pysaliency', 'replication', 'salicon']

Importing this package is cheap: the protocol tables load at once, the numba kernels when
a metric is first called.
"""

from __future__ import annotations

import importlib

from .protocols import (
    EXACT,
    METRICS,
    MIT,
    PROTOCOLS,
    PYSALIENCY,
    REPLICATION,
    SALICON,
    MetricInfo,
    Protocol,
    get_protocol,
)

_LAZY = {
    "DatasetScores": "dataset", "score_dataset": "dataset", "PackedFixations": "dataset",
    "auc_borji": "functional", "auc_judd": "functional", "cc": "functional",
    "center_prior": "functional", "emd": "functional", "ig": "functional",
    "kld": "functional", "nss": "functional", "sauc": "functional", "sim": "functional",
}

__all__ = [
    "EXACT", "METRICS", "MIT", "PROTOCOLS", "PYSALIENCY", "REPLICATION", "SALICON",
    "DatasetScores", "MetricInfo", "PackedFixations", "Protocol", "auc_borji", "auc_judd",
    "cc", "center_prior", "emd", "get_protocol", "ig", "kld", "nss", "sauc", "score_dataset",
    "sim",
]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    if name.startswith("_") and not name.startswith("__"):  # kernel modules: ._rng etc.
        try:
            return importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":  # a module it imports is missing
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
