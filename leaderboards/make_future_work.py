"""The replication study's future work, measured on synth: every CPU-sized variant and the
study's MSE and L1 losses (at the same width and schedule), three training seeds each,
scored under every protocol; boards in ``leaderboards/future-work/`` and the paired
comparison against MSE and L1 in ``leaderboards/future-work/comparison.md``.

    python leaderboards/make_future_work.py            # about 1.5 h on 2 CPU cores
    SEEDS=5 python leaderboards/make_future_work.py    # more seeds

Runs already in the store are kept (delete the folder to start over); run directories go
to ``runs/future-work/``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from salbench import data
from salbench.groups import groups, markdown, table
from salbench.leaderboard import rebuild
from salbench.metrics import PROTOCOLS
from salbench.registry import get_card, literature
from salbench.results import Store
from salbench.runner import RunOptions, entry_name, run

ROOT = Path(__file__).resolve().parent
STORE = ROOT / "future-work"
RUNS = ROOT.parent / "runs" / "future-work"
BASELINES = ["shallow-pan-small", "shallow-pan-small-l1"]  # the study's MSE and L1
CANDIDATES = ["shallow-pan-small-l1", "shallow-pan-small-kld", "shallow-pan-small-bhatt",
              "shallow-pan-small-combined", "shallow-pan-small-priors",
              "shallow-pan-small-gan"]
TABLES = {"replication": ["cc", "sauc", "auc_borji"],  # the study's Table IV metrics
          "mit": ["cc", "nss", "kld", "sim", "auc_judd", "auc_borji", "sauc"],
          "exact": ["auc_judd", "auc_borji", "sauc"]}  # AUCs without sampling or a grid
PROTOCOL_NAMES = list(PROTOCOLS)


def main() -> int:
    seeds = int(os.environ.get("SEEDS", 3))
    spec = data.resolve("synth")
    store = Store(STORE)
    stored = {(r.name, r.protocol_name) for r in store}
    models = list(dict.fromkeys([*BASELINES, *CANDIDATES]))
    for seed in range(seeds):
        for model in models:
            opts = RunOptions(model=model, spec=spec, train=True, seed=seed,
                              protocols=tuple(PROTOCOL_NAMES), store=STORE, plots=False)
            name = entry_name(get_card(model), opts)
            if all((name, p) in stored for p in PROTOCOL_NAMES):
                print(f"kept: {name}", file=sys.stderr)
                continue
            opts.out = str(RUNS / name)
            run(opts)
    rebuild(store, literature())
    found_all = list(store)
    parts = ["# The study's future work on synth: comparison with MSE and L1\n",
             f"Made by `python leaderboards/make_future_work.py` ({seeds} training seeds per "
             "model, the CPU-sized width and schedule of `shallow-pan-small`: Adam, 10 "
             "epochs). Boards per protocol: `synth-*.md` in this folder.\n"]
    for protocol, metrics in TABLES.items():
        found = groups(found_all, protocol, spec.label)
        rows = table(found, CANDIDATES, BASELINES, metrics)
        parts.append(markdown(rows, protocol, spec.label))
    path = STORE / "comparison.md"
    path.write_text("\n".join(parts))
    print(f"written: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
