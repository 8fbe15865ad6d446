"""The ``salbench`` command line.

Each subcommand is a small handler that imports what it needs inside, so ``salbench
--help`` imports nothing heavy (no numba, no torch).
"""

from __future__ import annotations

import argparse
import sys

from . import __version__


def _cmd_metrics(args: argparse.Namespace) -> int:
    from .console import table
    from .metrics.protocols import METRICS, PROTOCOLS, get_protocol

    if args.protocol:
        proto = get_protocol(args.protocol)
        print(f"{proto.name}: {proto.summary}\n")
        for line in proto.details:
            print(f"- {line}")
        print(f"\nmetrics: {', '.join(proto.metrics)}")
        print(f"default: {', '.join(proto.default_metrics)}")
        return 0
    rows = []
    for m in METRICS.values():
        where = ", ".join(p.name for p in PROTOCOLS.values() if m.name in p.metrics)
        rows.append((m.name, "↑" if m.higher_is_better else "↓", m.summary, where))
    table("Metrics", ["metric", "", "what", "protocols"], rows)
    table("Protocols", ["protocol", "what"],
          [(p.name, p.summary) for p in PROTOCOLS.values()],
          caption="salbench metrics --protocol NAME spells out every choice of a protocol.")
    return 0


def _add_dataset_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", choices=("synth", "salicon"), default=None,
                   help="default: salicon when a prepared copy is found, else synth")
    p.add_argument("--data-dir", help="a prepared SALICON directory (or $SALBENCH_DATA)")
    p.add_argument("--data-seed", type=int, default=0, help="the synthetic set's seed")


def _spec(args: argparse.Namespace):
    from .data import resolve

    return resolve(args.dataset, args.data_dir, seed=args.data_seed)


def _cmd_data_synth(args: argparse.Namespace) -> int:
    import time

    from .console import table
    from .data import DatasetSpec, describe, generate, load

    spec = DatasetSpec(name="synth", seed=args.data_seed, n_train=args.train, n_val=args.val)
    t0 = time.perf_counter()
    times = generate(spec.synth_config, workers=args.workers, force=args.force)
    total = time.perf_counter() - t0
    rows = []
    for split in ("train", "val"):
        info = describe(load(spec, split))
        t = times.get(split)
        rows.append((split, info["images"], info["items"], info["fixations"],
                     "cached" if t is None else f"{t:.1f} s", info["fingerprint"]))
    table(f"synthetic dataset '{spec.label}' (seed {spec.seed})",
          ["split", "images", "items", "fixations", "generated in", "fingerprint"], rows,
          caption=f"total {total:.1f} s; cache: $SALBENCH_HOME/synth")
    return 0


def _cmd_data_prepare(args: argparse.Namespace) -> int:
    from .console import note, table
    from .data.salicon import prepare

    report = prepare(args.src, args.out, edition=args.edition, fixations=args.fixations)
    rows = [(s, report.images.get(s, 0), report.items.get(s, 0), report.fixations.get(s, 0),
             report.clipped.get(s, 0), report.maps_from_fixations.get(s, 0))
            for s in ("train", "val")]
    table(f"SALICON {report.edition} -> {args.out}",
          ["split", "images", "items", "fixations", "clipped points", "maps from fixations"],
          rows)
    if report.unreadable:
        note(f"{len(report.unreadable)} unreadable file(s) skipped:")
        for path, why in report.unreadable:
            print(f"  {path}: {why}")
    return 0


def _cmd_data_info(args: argparse.Namespace) -> int:
    from .console import table
    from .data import describe, load

    spec = _spec(args)
    for split in args.split:
        info = describe(load(spec, split))
        rows = [(k, ", ".join(map(str, v)) if isinstance(v, list | tuple) else v)
                for k, v in info.items()]
        table(f"{spec.label} / {split}", ["", "value"], rows)
    return 0


def _cmd_data_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .console import note
    from .data import load
    from .data.study import write_train, write_val

    spec = _spec(args)
    out = Path(args.out)
    write_train(load(spec, "train"), out / "train.pkl")
    write_val(load(spec, "val"), out / "val.pkl", originals=not args.no_originals)
    note(f"wrote {out / 'train.pkl'} and {out / 'val.pkl'} (the replication study's format)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="salbench",
        description="Metrics-first benchmark for visual saliency prediction.",
    )
    parser.add_argument("--version", action="version", version=f"salbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("data", help="make, convert and describe datasets")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    q = dsub.add_parser("synth", help="generate (and cache) the synthetic dataset")
    q.add_argument("--data-seed", type=int, default=0)
    q.add_argument("--train", type=int, default=2000, help="training images (plus mirrors)")
    q.add_argument("--val", type=int, default=500, help="validation images")
    q.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    q.add_argument("--force", action="store_true", help="regenerate even when cached")
    q.set_defaults(func=_cmd_data_synth)
    q = dsub.add_parser("prepare", help="convert an official SALICON release")
    q.add_argument("--from", dest="src", required=True, help="the release's directory")
    q.add_argument("--out", required=True, help="where train.npz and val.npz go")
    q.add_argument("--edition", choices=("auto", "2015", "2017"), default="auto")
    q.add_argument("--fixations", choices=("fixations", "mouse"), default="fixations",
                   help="2017 only: the fixations, or the raw mouse samples")
    q.set_defaults(func=_cmd_data_prepare)
    q = dsub.add_parser("info", help="counts, sizes, fixations, centre bias, fingerprint")
    _add_dataset_args(q)
    q.add_argument("--split", nargs="+", choices=("train", "val"), default=["train", "val"])
    q.set_defaults(func=_cmd_data_info)
    q = dsub.add_parser("export", help="write train.pkl / val.pkl in the study's format")
    _add_dataset_args(q)
    q.add_argument("--out", required=True)
    q.add_argument("--no-originals", action="store_true",
                   help="leave X_original out of val.pkl (it is large)")
    q.set_defaults(func=_cmd_data_export)

    p = sub.add_parser("metrics", help="list metrics and protocols")
    p.add_argument("--protocol", help="spell out every choice of one protocol")
    p.set_defaults(func=_cmd_metrics)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, KeyError) as exc:
        print(f"salbench: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
