"""A run directory and what lives in it (only this module and the trainer's checkpoint
module know the names):

``checkpoint-epoch*.pt`` (networks) or ``baseline.npz`` (fitted baselines),
``train_log.jsonl``, ``preds.npz``, ``result-<protocol>.json``, ``plots/``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import UserError
from .results import Result, load, protocol_slug

PREDS = "preds.npz"
LOG = "train_log.jsonl"
PLOTS = "plots"


class RunDir:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    @property
    def log(self) -> Path:
        return self.path / LOG

    @property
    def preds(self) -> Path:
        return self.path / PREDS

    @property
    def plots(self) -> Path:
        return self.path / PLOTS

    def result_path(self, protocol: str) -> Path:
        return self.path / f"result-{protocol_slug(protocol)}.json"

    def exists(self) -> bool:
        return self.path.is_dir()

    def require(self) -> RunDir:
        if not self.path.is_dir():
            raise UserError("no such run directory", self.path,
                            "give the --out of a 'salbench run' (default runs/MODEL/DATA/seedN)")
        return self

    def results(self) -> list[Result]:
        return [load(p) for p in sorted(self.path.glob("result-*.json"))]

    def result(self, protocol: str | None = None) -> Result:
        """The run's result under ``protocol`` (the only one when there is one)."""
        found = self.results()
        if protocol is not None:
            path = self.result_path(protocol)
            if path.exists():
                return load(path)
        if protocol is None and len(found) == 1:
            return found[0]
        have = ", ".join(r.protocol_name for r in found) or "none"
        raise UserError(f"no result for protocol {protocol!r}" if protocol else
                        "this run has several results", self.path,
                        f"it has {have}; pass --protocol")

    def entry_name(self) -> str:
        """The entry its results name (figures' titles, as ``salbench run`` draws them),
        else the directory's name (a run not scored yet, or one whose results disagree)."""
        try:
            names = {r.name for r in self.results()}
        except UserError:  # a damaged result: a title is no reason to stop
            names = set()
        return names.pop() if len(names) == 1 else self.path.name

    def predictions(self) -> tuple[np.ndarray, list[str]]:
        if not self.preds.exists():
            raise UserError("no predictions in this run directory", self.path,
                            "run 'salbench run MODEL' first")
        with np.load(self.preds, allow_pickle=False) as z:
            if not {"preds", "file_names"} <= set(z.files):
                raise UserError(f"holds {z.files}, not preds and file_names", self.preds,
                                "rerun 'salbench run' into this directory")
            preds, names = z["preds"], [str(x) for x in z["file_names"]]
        if preds.dtype.kind not in "fiu" or preds.ndim != 3 or len(preds) != len(names):
            raise UserError(f"preds are {preds.dtype} of shape {preds.shape} for "
                            f"{len(names)} file names", self.preds,
                            "rerun 'salbench run' into this directory")
        return preds, names

    def conv1_weights(self) -> tuple[np.ndarray, str]:
        """The first-layer filters of the run's newest checkpoint (imports torch)."""
        none = UserError("no checkpoint in this run directory", self.path,
                         "filters exist for trained networks only; baselines have none")
        if not any(self.path.glob("checkpoint-epoch*.pt")):  # said without torch
            raise none
        from .nets.training import checkpoints

        found = checkpoints.latest_valid(self.path)
        if found is None:
            raise none
        state = found[1]
        return state["state_dict"]["features.0.weight"].numpy(), str(state.get("model"))
