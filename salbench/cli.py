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


def _print_result(r: dict, title: str | None = None) -> None:
    from .console import table

    rows = []
    for m, e in r["metrics"].items():
        lo, hi = e["ci95"]
        ci = "" if lo is None or lo != lo else f"{lo:.4f} – {hi:.4f}"
        spread = f"{e['split_std']:.4f}" if "split_std" in e else ""
        rows.append((f"{m} {'↑' if e['higher_is_better'] else '↓'}", e["mean"], ci,
                     e["nan_count"], spread))
    ds = r["dataset"]
    table(title or f"{r['model']} on {ds['label']}/{ds['split']} ({ds['n_images']} images), "
          f"protocol {r['protocol']['name']}, seed {r['seed']}",
          ["metric", "mean", "95% CI (bootstrap)", "NaN images", "std over splits"], rows)


def _metrics_arg(value: str | None):
    return None if not value else tuple(v.strip() for v in value.split(",") if v.strip())


def _cmd_run(args: argparse.Namespace) -> int:
    from .console import note
    from .runner import RunOptions, run

    opts = RunOptions(
        model=args.model, spec=_spec(args), train=args.train, epochs=args.epochs,
        seed=args.seed, device=args.device, out=args.out, protocols=tuple(args.protocol),
        metrics=_metrics_arg(args.metrics), score_seed=args.score_seed,
        resume=not args.no_resume, preds_pkl=args.preds_pkl,
        results_dir=None if args.no_record else args.results,
        leaderboard_dir=None if args.no_record else args.leaderboards, plots=not args.no_plots)
    out = run(opts)
    t = out.get("training")
    if t and t["epochs_run"]:
        note(f"trained {t['epochs_run']} epoch(s) in {t['seconds']:.1f} s "
             f"({t['images_per_second']:.0f} images/s on {t['device']}); "
             f"final train loss {t['final_train_loss']:.5f}"
             + (f", val loss {t['final_val_loss']:.5f}" if t["final_val_loss"] else ""))
    for r in out["results"]:
        _print_result(r)
    if out["results"]:
        note(f"run directory: {out['out']} (preds.npz, result-*.json, plots/)")
    return 0


def _cmd_score(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    from .console import note
    from .data import load
    from .metrics import score_dataset
    from .metrics.protocols import get_protocol
    from .results import build_result, result_path, save_result
    from .scoring import read_for_split

    metrics = {p: get_protocol(p).select_metrics(_metrics_arg(args.metrics))
               for p in args.protocol}  # refuse a bad request before any work
    spec = _spec(args)
    val = load(spec, "val")
    preds = read_for_split(args.preds, val)
    name = args.name or Path(args.preds).stem
    fixations, names, fingerprint = val.fixation_list(), list(val.file_names), val.fingerprint()
    for protocol in args.protocol:
        t0 = time.perf_counter()
        scores = score_dataset(preds, fixations, val.sizes, protocol=protocol,
                               metrics=metrics[protocol], seed=args.seed, names=names)
        r = build_result(scores, model=name, dataset_label=spec.label, split="val",
                         fingerprint=fingerprint, wall_time_s=time.perf_counter() - t0)
        _print_result(r)
        if args.out:
            path = Path(args.out)
            if len(args.protocol) > 1:
                path = path.with_name(f"{path.stem}-{protocol}{path.suffix or '.json'}")
        else:
            path = Path(f"{name}-result-{protocol}.json")
        save_result(r, path)
        note(f"wrote {path}")
        if args.results:
            save_result(r, result_path(args.results, spec.label, protocol, name))
    if args.results:
        from .leaderboard import rebuild

        rebuild(args.results, args.leaderboards)
    return 0


def _cmd_models(args: argparse.Namespace) -> int:
    from .console import table
    from .registry import cards

    rows = []
    for c in cards().values():
        if c.test_only and not args.all:
            continue
        params = c.param_count()
        rep = "; ".join(f"{r.label} ({r.protocol}): " + ", ".join(
            f"{k} {v:g}" for k, v in r.scores.items()) for r in c.reported)
        rows.append((c.name, c.kind, f"{params:,}" if params else "—", c.summary, rep or "—"))
    table("Models", ["model", "kind", "parameters", "what", "reported (literature)"], rows,
          caption="salbench run MODEL --train trains and scores one; cards live in models/.")
    return 0


def _cmd_leaderboard(args: argparse.Namespace) -> int:
    from .console import note
    from .leaderboard import rebuild

    written = rebuild(args.results, args.out, sort=args.sort)
    if not written:
        note(f"no results under {args.results}; run 'salbench run MODEL' first")
        return 1
    for p in written:
        print(p)
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .compare import compare_results
    from .results import load_result, result_path

    def resolve_result(x: str) -> dict:
        if Path(x).is_file():
            return load_result(x)
        spec = _spec(args)
        return load_result(result_path(args.results, spec.label, args.protocol, x))

    ra, rb = resolve_result(args.a), resolve_result(args.b)
    for t in compare_results(ra, rb, args.metric):
        print(t.sentence(ra["model"], rb["model"]))
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    from pathlib import Path

    import numpy as np

    from . import plots
    from .console import note

    run_dir = Path(args.run)
    out = Path(args.out) if args.out else run_dir / "plots"
    made = []
    if args.what == "curves":
        made.append(plots.training_curves(run_dir / "train_log.jsonl",
                                          out / "training-curves.png", run_dir.name))
    elif args.what == "filters":
        from .train import latest_checkpoint, load_checkpoint

        ckpt = latest_checkpoint(run_dir)
        if ckpt is None:
            raise FileNotFoundError(f"{run_dir}: no checkpoint")
        state = load_checkpoint(ckpt)
        made.append(plots.filters(state["state_dict"]["features.0.weight"].numpy(),
                                  out / "filters-conv1.png", f"{state['model']}: conv1"))
    else:
        from .data import load
        from .results import load_result, per_image_scores

        result = load_result(run_dir / f"result-{args.protocol}.json")
        spec = _spec(args)
        val = load(spec, "val")
        with np.load(run_dir / "preds.npz", allow_pickle=False) as z:
            preds = z["preds"]
        metric = args.metric or next(iter(result["metrics"]))
        if metric not in result["metrics"]:
            raise ValueError(f"{metric!r} is not in {run_dir}/result-{args.protocol}.json")
        made += plots.best_worst(val, preds, per_image_scores(result, metric), metric,
                                 result["metrics"][metric]["higher_is_better"], out, args.k)
    for p in made:
        note(f"wrote {p}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="salbench",
        description="Metrics-first benchmark for visual saliency prediction.",
    )
    parser.add_argument("--version", action="version", version=f"salbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("run", help="train or load a model, predict val, score, record")
    p.add_argument("model", help="a registry name (salbench models)")
    p.add_argument("--train", action="store_true", help="train first (resumes if it can)")
    _add_dataset_args(p)
    p.add_argument("--epochs", type=int, help="override the card's number of epochs")
    p.add_argument("--seed", type=int, default=0, help="training seed")
    p.add_argument("--device", default="auto", help="auto (cuda if present), cpu, cuda, cuda:1")
    p.add_argument("--out", help="run directory (default runs/MODEL/DATASET/seedN)")
    p.add_argument("--protocol", nargs="+", default=["replication"],
                   choices=("replication", "mit", "exact"))
    p.add_argument("--metrics", help="comma-separated (default: the protocol's set)")
    p.add_argument("--score-seed", type=int, default=0, help="seed of the sampled metrics")
    p.add_argument("--no-resume", action="store_true", help="train from scratch")
    p.add_argument("--preds-pkl", action="store_true", help="also write the study's preds.pkl")
    p.add_argument("--results", default="leaderboards/results", help="result store")
    p.add_argument("--leaderboards", default="leaderboards", help="where boards are rebuilt")
    p.add_argument("--no-record", action="store_true",
                   help="do not store the result or rebuild the leaderboards")
    p.add_argument("--no-plots", action="store_true")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("score", help="score a predictions file against a dataset's val split")
    p.add_argument("preds", help="preds.pkl (the study's), .npz, .npy or a folder of PNG maps")
    _add_dataset_args(p)
    p.add_argument("--protocol", nargs="+", default=["replication"],
                   choices=("replication", "mit", "exact"))
    p.add_argument("--metrics", help="comma-separated (default: the protocol's set)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sampled metrics")
    p.add_argument("--name", help="model name in the result (default: the file's name)")
    p.add_argument("--out", help="the result JSON (default: NAME-result-PROTOCOL.json here)")
    p.add_argument("--results", help="also store it in this result store (and rebuild)")
    p.add_argument("--leaderboards", default="leaderboards")
    p.set_defaults(func=_cmd_score)

    p = sub.add_parser("leaderboard", help="rebuild leaderboards from stored results")
    p.add_argument("--results", default="leaderboards/results")
    p.add_argument("--out", default="leaderboards")
    p.add_argument("--sort", help="metric to sort by (default: cc)")
    p.set_defaults(func=_cmd_leaderboard)

    p = sub.add_parser("compare", help="paired test of two models over per-image scores")
    p.add_argument("a", help="a result JSON, or a model name in the result store")
    p.add_argument("b")
    p.add_argument("--metric", help="one metric (default: every shared metric)")
    p.add_argument("--protocol", default="replication")
    _add_dataset_args(p)
    p.add_argument("--results", default="leaderboards/results")
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("plot", help="training curves, first-layer filters, qualitative grids")
    p.add_argument("what", choices=("curves", "filters", "grid"))
    p.add_argument("run", help="a run directory (salbench run --out)")
    p.add_argument("--out", help="where PNGs go (default RUN/plots)")
    p.add_argument("--metric", help="grid: rank images by this metric")
    p.add_argument("--protocol", default="replication")
    p.add_argument("--k", type=int, default=4, help="grid: images per figure")
    _add_dataset_args(p)
    p.set_defaults(func=_cmd_plot)

    p = sub.add_parser("models", help="list registered models")
    p.add_argument("--all", action="store_true", help="include test-only entries")
    p.set_defaults(func=_cmd_models)

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
