"""Leaderboards: ``<dataset>-<protocol>.md`` and ``.csv`` beside the results of a store.
Generated, never hand-edited.

Measured rows (one per entry, sorted by the primary metric, the right way round for
lower-is-better metrics, each labelled with what it was trained on and the data it was
scored on) and numbers reported in the literature (handed in by the caller) are two
separate tables: a reported number is never ranked against a measured one.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UserError
from .io import write_atomic
from .metrics.protocols import METRICS, PROTOCOLS
from .results import Result, Store
from .stats import BOOTSTRAP_RESAMPLES
from .suggest import did_you_mean

PRIMARY = "cc"


@dataclass
class Board:
    """One board's rows in rank order (a dict per entry, keyed by ``columns``), the
    metrics it shows, the metric it is sorted by, and why images are NaN:
    ``{reason: {(entry, metric): images}}`` (kept out of the CSV's columns)."""

    columns: list[str] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    sorted_by: str | None = None
    nan_reasons: dict[str, dict[tuple[str, str], int]] = field(default_factory=dict)

    def __getitem__(self, column: str) -> list:
        return [row[column] for row in self.rows]

    def __len__(self) -> int:
        return len(self.rows)

    def to_csv(self) -> str:
        """The board as CSV: a header, then one line per row; numbers as Python writes
        them (``repr``: every digit kept), blank where unknown (None, NaN)."""
        buf = io.StringIO()
        out = csv.writer(buf, lineterminator="\n")
        out.writerow(self.columns)
        for row in self.rows:
            out.writerow([_csv_cell(row[c]) for c in self.columns])
        return buf.getvalue()


def _csv_cell(v: object) -> str:
    if is_missing(v):
        return ""
    return repr(float(v)) if isinstance(v, float) else str(v)


@dataclass
class Boards:
    written: list[Path] = field(default_factory=list)
    tables: dict[tuple[str, str], Board] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _order(metrics: set[str], protocol: str) -> list[str]:
    proto = PROTOCOLS.get(protocol.split("[")[0])
    known = list(proto.metrics) if proto else list(METRICS)
    return [m for m in known if m in metrics] + sorted(metrics - set(known))


def trained_on(r: Result) -> str:
    """What an entry was trained on: ``3/1000 epochs on CPU`` (3 of a 1,000-epoch schedule;
    the device where this run trained it, when it did)."""
    t = r.training or {}
    card = r.model_card or {}
    if card.get("kind") == "network" or t:
        done = t.get("epochs_done") or (r.checkpoint or {}).get("epoch")
        total = t.get("schedule_epochs") or (card.get("train") or {}).get("epochs")
        if done is None:
            return ""
        text = f"{done}/{total} epochs" if total else f"{done} epochs"
        where = _trained_where(r)
        return f"{text} on {where}" if where else text
    if (card.get("train") or {}).get("fit"):
        return "fitted on train"
    return "—" if card else "file"


def _trained_where(r: Result) -> str:
    """``CPU``, or the GPU's name, for a run that trained the model itself."""
    device = (r.training or {}).get("device")
    if not device or (r.training or {}).get("from_checkpoint"):
        return ""
    if str(device).startswith("cuda"):
        return (r.hardware or {}).get("device") or "a GPU"
    return "CPU" if str(device) == "cpu" else str(device)


def table(results: list[Result], protocol: str, sort: str | None = None) -> Board:
    """One row per entry (an entry name is one file in a store, so one result), ranked by
    ``sort`` (default: cc), the right way round for the metric; entries without it last,
    ties by name."""
    metrics = _order({m for r in results for m in r.metrics}, protocol)
    rows = []
    for r in results:
        card = r.model_card or {}
        ds = r.dataset
        prep = ds.get("preparation") or {}
        row = {"name": r.name, "model": r.model or "", "kind": card.get("kind", ""),
               "params": card.get("params"), "trained": trained_on(r),
               "n_images": ds.get("n_images"), "seed": r.seed,
               "fingerprint": ds.get("fingerprint") or "",
               "data": "/".join(str(v) for k, v in prep.items() if k in ("edition",
                                                                         "fixations")),
               "normalize": (r.preprocessing or {}).get("normalize") or "",
               "checkpoint_sha256": ((r.checkpoint or {}).get("sha256") or "")[:16],
               "salbench": r.salbench_version, "commit": _short(r.git_commit),
               "created": r.created}
        for m in metrics:
            e = r.metrics.get(m)
            row[m] = e.mean if e else math.nan
            row[f"{m}_ci_lo"] = e.ci95[0] if e else math.nan
            row[f"{m}_ci_hi"] = e.ci95[1] if e else math.nan
            row[f"{m}_nan"] = e.nan_count if e else 0
        rows.append(row)
    if not rows:
        return Board()
    key = sort or (PRIMARY if PRIMARY in metrics else metrics[0])
    if key not in metrics:
        raise UserError(f"cannot sort by {key!r}: not a metric on the {protocol} board"
                        f"{did_you_mean(key, metrics)}", hint=f"it has {', '.join(metrics)}")
    sign = -1.0 if (METRICS[key].higher_is_better if key in METRICS else True) else 1.0
    rows.sort(key=lambda row: (is_missing(row[key]), 0.0 if is_missing(row[key]) else
                               sign * row[key], row["name"]))
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    reasons: dict[str, dict[tuple[str, str], int]] = {}
    for r in results:
        for m in metrics:
            for why, count in (r.metrics[m].nan_reasons if m in r.metrics else {}).items():
                reasons.setdefault(why, {})[(r.name, m)] = int(count)
    return Board(columns=["rank", *(c for c in rows[0] if c != "rank")], rows=rows,
                 metrics=metrics, sorted_by=key, nan_reasons=reasons)


def is_missing(v) -> bool:
    """Unknown: None, or NaN (blank in the CSV, a dash on the Markdown board)."""
    return v is None or (isinstance(v, float) and math.isnan(v))


def _nan_lines(reasons: dict[str, dict[tuple[str, str], int]], names: list[str],
               metrics: list[str]) -> list[str]:
    """One line per reason an image is NaN, with how many images, in which entries and
    metrics (``every entry and metric`` when it is the same count everywhere)."""
    lines = []
    for why in sorted(reasons):
        per = reasons[why]
        counts = set(per.values())
        if len(counts) == 1 and len(per) == len(names) * len(metrics) and len(names) > 1:
            lines.append(f"- {cell(why)}: {counts.pop()} images, in every entry and metric")
            continue
        parts = []
        for name in names:
            got = [f"{m} {per[(name, m)]}" for m in metrics if (name, m) in per]
            if got:
                parts.append(f"`{cell(name)}` ({', '.join(got)})")
        lines.append(f"- {cell(why)}: " + "; ".join(parts))
    return lines


def _short(commit: str | None) -> str:
    if not commit:
        return ""
    return commit[:10] + ("-dirty" if commit.endswith("-dirty") else "")


def cell(text: object) -> str:
    """A Markdown table cell: pipes escaped, line breaks and backticks flattened."""
    s = str(text).replace("\\", "\\\\").replace("|", "\\|").replace("`", "'")
    return " ".join(s.split())


def _value(row: dict, m: str) -> str:
    v = row[m]
    nan = int(row.get(f"{m}_nan", 0) or 0)
    if is_missing(v):
        return "—" if not nan else f"— ({nan} NaN)"
    lo, hi = row[f"{m}_ci_lo"], row[f"{m}_ci_hi"]
    ci = "" if (is_missing(lo) or is_missing(hi)) else f" ({lo:.3f}–{hi:.3f})"
    return f"{v:.3f}{ci}" + (f" [{nan} NaN]" if nan else "")


def markdown(board: Board, dataset: str, protocol: str,
             literature: list[dict] | None = None) -> str:
    proto = PROTOCOLS.get(protocol)
    metrics = board.metrics
    key = board.sorted_by
    lines = [f"# {cell(dataset)} — `{cell(protocol)}` protocol", "",
             "<!-- generated by `salbench leaderboard`; do not edit by hand -->", ""]
    if proto:
        lines += [f"Protocol: {proto.summary} (`salbench metrics --protocol {protocol}` spells "
                  "out every choice).", ""]
    else:
        lines += [f"Protocol: a variant of a named protocol ({cell(protocol)}); its result "
                  "files record every changed field.", ""]
    lines += ["## Measured", ""]
    prints = sorted({row["fingerprint"] for row in board.rows if row["fingerprint"]})
    versions = len(prints) > 1
    if versions:
        lines += [f"> **Warning**: these rows were scored on {len(prints)} different versions "
                  f"of the data (the `data` column says which); only rows on the same version "
                  "are comparable.", ""]
    head = ["#", "entry"] + [f"{m} {'↑' if METRICS[m].higher_is_better else '↓'}"
                             if m in METRICS else m for m in metrics] + ["trained", "params"]
    if versions:
        head.append("data")
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in board.rows:
        params = "" if row["params"] is None else f"{row['params']:,}"
        cells = [str(row["rank"]), f"`{cell(row['name'])}`"] + \
            [_value(row, m) for m in metrics] + [cell(row["trained"]), params]
        if versions:
            cells.append(cell(f"{row['fingerprint'][:8]} {row['data']}".strip()))
        lines.append("| " + " | ".join(cells) + " |")
    n = list(dict.fromkeys(v for v in board["n_images"] if v is not None))
    seeds = sorted({v for v in board["seed"] if v is not None})
    better = "higher" if key in METRICS and METRICS[key].higher_is_better else "lower"
    normalized = sorted({x for x in board["normalize"] if x})
    lines += ["", f"Sorted by `{key}` ({better} is better). In brackets: 95% bootstrap "
              "confidence interval of the mean over images (seeded, "
              f"{BOOTSTRAP_RESAMPLES} resamples). Images: {', '.join(map(str, n))}; "
              f"scoring seed(s): {', '.join(map(str, seeds))}. — marks a metric that is "
              "undefined for the entry (e.g. CC of a constant map). `trained`: epochs run "
              "of the schedule's length, on the device of the run that trained it."
              + (f" Some predictions were normalised before scoring "
                 f"({', '.join(normalized)})." if normalized else ""), ""]
    nan = _nan_lines(board.nan_reasons, board["name"], metrics)
    if nan:
        lines += ["NaN images, by reason:", "", *nan, ""]
    lit = literature or []
    if lit:
        cols = [m for m in ("cc", "sauc", "auc_borji", "auc_judd", "nss", "kld", "sim", "ig")
                if any(m in r for r in lit)]
        lines += ["## Reported in the literature (not measured here; never ranked above)", "",
                  "Numbers from the papers named, on the data set, split and release they "
                  "name, under the protocol they name (`unknown` where the paper does not "
                  "say): context for this board, not entries in it.", "",
                  "| source | model | data | protocol | " + " | ".join(cols) + " |",
                  "|---|---|---|---|" + "---|" * len(cols)]
        for r in lit:
            data = " ".join(x for x in (r.get("dataset", ""), r.get("release", ""),
                                        r.get("split", "")) if x)
            cells = [cell(r["label"]), cell(r["model"]), cell(data),
                     f"`{cell(r['protocol'])}`"] + [f"{r[m]:.3f}" if m in r else ""
                                                    for m in cols]
            lines.append("| " + " | ".join(cells) + " |")
        # each row's full source and note (the table shows its label)
        sources = [(r["label"], "; ".join(cell(r[k]) for k in ("source", "note") if r.get(k)))
                   for r in lit]
        if any(text for _, text in sources):
            lines += ["", "Sources:", ""]
            lines += [f"- {cell(label)}: {text}" for label, text in sources if text]
        lines.append("")
    return "\n".join(lines)


def rebuild(store: Store | str | Path, literature: list[dict] | None = None,
            sort: str | None = None, only: Iterable[tuple[str, str]] | None = None) -> Boards:
    """Write one ``.md`` and one ``.csv`` per (dataset, protocol) in ``store`` (the
    ``(dataset label, protocol name)`` boards ``only``, when given: a new result changes
    its own board, and reading every result of a large store costs more than the rest);
    files that fail validation are skipped (listed in ``Boards.skipped``), the rest are
    built."""
    from .lock import store_lock

    st = store if isinstance(store, Store) else Store(store)
    if not st.root.is_dir():  # no results; and no folder made for a mistyped --store
        return _rebuild(st, literature, sort, only)
    with store_lock(st.root):
        return _rebuild(st, literature, sort, only)


def _rebuild(st: Store, literature, sort, only) -> Boards:
    results, skipped = st.results(only)
    boards = Boards(skipped=skipped)
    groups: dict[tuple[str, str], list[Result]] = {}
    for r in results:
        if r.dataset.get("split", "val") != "val":
            continue
        groups.setdefault((r.dataset_label, r.protocol_name), []).append(r)
    if sort is not None and groups and not any(
            sort in r.metrics for rs in groups.values() for r in rs):
        on = sorted({m for rs in groups.values() for r in rs for m in r.metrics})
        raise UserError(f"cannot sort by {sort!r}: no board has it{did_you_mean(sort, on)}",
                        hint=f"metrics on the boards: {', '.join(on)}")
    for (dataset, protocol), rs in sorted(groups.items()):
        key = sort if sort is not None and any(sort in r.metrics for r in rs) else None
        board = table(rs, protocol, key)
        boards.tables[(dataset, protocol)] = board
        md = markdown(board, dataset, protocol, literature)
        for suffix, text in ((".md", md), (".csv", board.to_csv())):
            path = st.board_path(dataset, protocol, suffix)
            boards.written.append(write_atomic(path, lambda f, t=text: f.write(t.encode())))
    return boards
