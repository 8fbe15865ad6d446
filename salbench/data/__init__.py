"""Datasets: the embedded synthetic set, SALICON in its official formats, the replication
study's pickles, and salbench's own ``.npz`` split files."""

from .datasets import DatasetSpec, describe, generate, load, resolve
from .split import Split, load_split, save_split

__all__ = ["DatasetSpec", "Split", "describe", "generate", "load", "load_split", "resolve",
           "save_split"]
