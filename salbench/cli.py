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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="salbench",
        description="Metrics-first benchmark for visual saliency prediction.",
    )
    parser.add_argument("--version", action="version", version=f"salbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

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
