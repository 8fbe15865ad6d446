"""The ``salbench`` command line: argument parsing and a few lines per command over the
library (:func:`salbench.evaluate.evaluate`, :func:`salbench.runner.run`, ...).

Handlers import what they need inside, so ``salbench --help`` imports nothing heavy (no
numba, no torch).  A :class:`~salbench.errors.UserError` ends the command with
one line on stderr and exit status 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys

from . import __version__

PROTOCOL_NAMES = ("replication", "mit", "salicon", "pysaliency", "exact")
DEFAULT_PROTOCOL = "replication"
# TrainConfig.COMPILE_MODES, spelled out so that --help imports nothing (a test compares)
COMPILE_CHOICES = ("auto", "on", "off", "reduce-overhead")
STORE_HELP = ("result store: a folder of result files and the leaderboards made from them "
              "(default: your own store, $SALBENCH_HOME/results, i.e. ~/.cache/salbench/"
              "results; the repository's committed boards are the store 'leaderboards', "
              "written only when asked with --store leaderboards)")


def _store(args) -> str | None:
    from .results import default_store

    if getattr(args, "no_store", False):
        return None
    return args.store or str(default_store())


def _spec(args: argparse.Namespace):
    from .data import resolve

    return resolve(args.dataset, args.data_dir, seed=_data_seed(args))


def _data_seed(args: argparse.Namespace) -> int:
    return 0 if args.data_seed is None else args.data_seed


def _run_data(args: argparse.Namespace, result):
    """The data set ``plot grid`` loads: the one named on the command line, else the one
    the run's result was scored on (a synthetic set of other sizes or seed included)."""
    from .data.datasets import spec_of_label
    from .errors import UserError

    if args.dataset or args.data_dir or args.data_seed is not None:
        return _spec(args)
    label = result.dataset_label
    try:
        spec = spec_of_label(label)
    except UserError:  # salicon/study without $SALBENCH_DATA
        raise UserError(f"the run was scored on {label!r}, whose folder is not known",
                        hint=f"pass --data-dir (the {label} folder it was scored on)") from None
    return _spec(args) if spec is None else spec


def _metrics_arg(value: str | None):
    return None if not value else tuple(v.strip() for v in value.split(",") if v.strip())


def _protocol_changes(items: list[str] | None) -> dict:
    """``--protocol-option FIELD=VALUE`` pairs (numbers parsed, text kept)."""
    from .errors import UserError

    out = {}
    for item in items or []:
        field, sep, raw = item.partition("=")
        if not sep:
            raise UserError(f"--protocol-option {item!r} is not FIELD=VALUE",
                            hint="e.g. --protocol-option judd_jitter=0")
        value: object = raw
        for cast in (int, float):
            try:
                value = cast(raw)
                break
            except ValueError:
                continue
        if raw in ("true", "false"):
            value = raw == "true"
        out[field.strip()] = value
    return out


def _protocols(args):
    from .evaluate import protocols_for

    return protocols_for(args.protocol, _protocol_changes(args.protocol_option),
                         args.gt_maps)


def _print_result(r) -> None:
    from .console import table

    rows = []
    for m, e in r.metrics.items():
        lo, hi = e.ci95
        ci = "" if lo != lo else f"{lo:.4f} – {hi:.4f}"
        spread = "" if e.split_std is None else \
            "— (1 split)" if (e.splits or 0) < 2 else f"{e.split_std:.4f}"
        why = "; ".join(f"{k}: {v}" for k, v in e.nan_reasons.items())
        rows.append((f"{m} {'↑' if e.higher_is_better else '↓'}", e.mean, ci,
                     f"{e.nan_count}" + (f" ({why})" if why else ""), spread))
    ds = r.dataset
    table(f"{r.name} on {ds['label']}/{ds['split']} ({ds['n_images']} images), protocol "
          f"{r.protocol_name}, seed {r.seed}",
          ["metric", "mean", "95% CI (bootstrap)", "NaN images", "std over splits"], rows)


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
        print("\nfields (get_protocol(NAME).replace(FIELD=VALUE) makes a variant):")
        for k, v in proto.fields().items():
            print(f"  {k} = {v!r}")
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


def _cmd_data_synth(args: argparse.Namespace) -> int:
    import time

    from .console import table
    from .data import DatasetSpec, describe, generate, load
    from .data.datasets import synth_dir

    spec = DatasetSpec(name="synth", seed=args.data_seed, n_train=args.train, n_val=args.val)
    t0 = time.perf_counter()
    times = generate(spec.synth_config, workers=args.workers, force=args.force)
    total = time.perf_counter() - t0
    rows = []
    for split in ("train", "val"):
        info = describe(load(spec, split))
        t = times.get(split)
        rows.append((split, info["images"], info["items"], info["fixations (originals)"],
                     "cached" if t is None else f"{t:.1f} s", info["fingerprint"]))
    table(f"synthetic dataset '{spec.label}' (seed {spec.seed})",
          ["split", "images", "items", "fixations", "generated in", "fingerprint"], rows,
          caption=f"total {total:.1f} s; cache: {synth_dir(spec.synth_config)}")
    return 0


def _cmd_data_prepare(args: argparse.Namespace) -> int:
    import shlex

    from .console import note, table
    from .data.salicon import prepare

    report = prepare(args.src, args.out, edition=args.edition, fixations=args.fixations)
    rows = [(s, report.images.get(s, 0), report.items.get(s, 0), report.fixations.get(s, 0),
             report.clipped.get(s, 0), report.dropped.get(s, 0),
             report.maps_from_fixations.get(s, 0), report.maps_kept.get(s, 0))
            for s in ("train", "val")]
    table(f"SALICON {report.edition} -> {args.out}",
          ["split", "images", "items", "fixations", "clipped points", "dropped points",
           "maps from fixations", "given maps kept"], rows)
    if report.unreadable:
        note(f"{len(report.unreadable)} item(s) skipped:")
        for path, why in report.unreadable:
            print(f"  {path}: {why}", file=sys.stderr)
    if report.repaired:
        note(f"{len(report.repaired)} item(s) repaired:")
        for path, what in report.repaired:
            print(f"  {path}: {what}", file=sys.stderr)
    note("score on it with: salbench run MODEL --dataset salicon --data-dir "
         f"{shlex.quote(str(args.out))}")
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
    from .data.study import export_size, write_train, write_val
    from .progress import progress_bar

    spec = _spec(args)
    out = Path(args.out)
    train, val = load(spec, "train"), load(spec, "val")
    originals = not args.no_originals
    sizes = {"train.pkl": export_size(train, "train"),
             "val.pkl": export_size(val, "val", originals)}
    note(f"writing {out / 'train.pkl'} (~{sizes['train.pkl'] / 2**30:.2f} GiB) and "
         f"{out / 'val.pkl'} (~{sizes['val.pkl'] / 2**30:.2f} GiB"
         + (", with X_original; --no-originals leaves the original images out" if originals
            and val.has_images else "") + ")")
    with progress_bar("train.pkl", len(train)) as advance:
        write_train(train, out / "train.pkl", progress=advance)
    with progress_bar("val.pkl", len(val)) as advance:
        write_val(val, out / "val.pkl", originals=originals, progress=advance)
    note(f"wrote {out / 'train.pkl'} and {out / 'val.pkl'} (the replication study's format)")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from .console import note
    from .runner import RunOptions, run

    opts = RunOptions(
        model=args.model, spec=_spec(args), train=args.train, epochs=args.epochs,
        stop_after=args.stop_after, checkpoint_every=args.checkpoint_every, seed=args.seed,
        device=args.device, compile=args.compile, out=args.out,
        protocols=tuple(_protocols(args)),
        metrics=_metrics_arg(args.metrics), score_seed=args.score_seed,
        resume=not args.no_resume, resume_from=args.resume, preds_pkl=args.preds_pkl,
        store=None if args.no_record else _store(args), name=args.name,
        normalize=args.normalize, plots=not args.no_plots, plot_format=args.plot_format)
    out = run(opts)
    if out.interrupted:
        note(f"interrupted; nothing is lost. Resume with: {out.resume_command}")
        return 130
    t = out.training
    if t and t["epochs_run"]:
        note(f"trained {t['epochs_run']} epoch(s) in {t['seconds']:.1f} s "
             f"({t['images_per_second']:.0f} images/s on {t['device']}); "
             f"final train loss {t['final_train_loss']:.5f}"
             + (f", val loss {t['final_val_loss']:.5f}" if t["final_val_loss"] else ""))
    for r in out.results:
        _print_result(r)
    for line in out.notes:
        note(line)
    if out.results:
        where = f"; results stored in {opts.store}" if opts.store else ""
        held = "preds.npz, result-*.json" + (", plots/" if opts.plots else "")
        note(f"run directory: {out.out} ({held}){where}")
    return 0


def _cmd_score(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .console import note
    from .data import load
    from .data.predictions import read_for_split
    from .errors import UserError
    from .evaluate import evaluate
    from .io import check_writable
    from .registry import literature
    from .results import check_name

    protos = _protocols(args)
    metrics = _metrics_arg(args.metrics)
    for p in protos:
        p.select_metrics(metrics)  # refuse a bad request before reading anything
    if args.name is not None:
        name = check_name(args.name, "result name")
    else:
        name = Path(args.preds).stem
        try:
            check_name(name, "result name")
        except UserError as exc:
            raise UserError(f"{exc.what} (taken from the file name)", args.preds,
                            "give one with --name") from None
    outs = _score_outputs(args.out, [p.name for p in protos])
    for path in outs:
        check_writable(path)  # before the scoring, not after it
    spec = _spec(args)
    val = load(spec, "val")
    preds = read_for_split(args.preds, val)
    store = _store(args)
    results = evaluate(preds, val, name=name, dataset_label=spec.label, protocols=protos,
                       metrics=metrics, seed=args.seed, normalize=args.normalize,
                       store=store, literature=literature() if store else None)
    for r in results:
        _print_result(r)
    if outs:  # one path per result, in order
        for r, p in zip(results, outs, strict=True):
            r.save(p)
            note(f"wrote {p}")
    if store:
        note(f"stored as {name!r} in {store} (salbench leaderboard shows the boards)")
    return 0


def _score_outputs(out: str | None, protocols: list[str]) -> list:
    """Where ``score --out`` writes each protocol's result: ``out`` itself for one,
    ``STEM-PROTOCOL.json`` beside it for several; none without ``--out``."""
    from pathlib import Path

    if not out:
        return []
    path = Path(out)
    if len(protocols) == 1:
        return [path]
    return [path.with_name(f"{path.stem}-{p}{path.suffix or '.json'}") for p in protocols]


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
    from .console import note, table
    from .leaderboard import is_missing, rebuild
    from .metrics.protocols import METRICS
    from .registry import literature

    store = _store(args)
    boards = rebuild(store, literature(), sort=args.sort)
    for path, why in boards.skipped:
        note(f"skipped {path}: {why}")
    if not boards.tables:
        note(f"no results in {store}; 'salbench run MODEL' or 'salbench score FILE' adds some")
        return 1
    for (dataset, protocol), board in boards.tables.items():
        metrics = board.metrics
        rows = []
        for row in board.rows:
            vals = ["—" if is_missing(row[m]) else f"{row[m]:.3f}" for m in metrics]
            rows.append((row["rank"], row["name"], *vals, row["trained"]))
        heads = [f"{m} {'↑' if METRICS[m].higher_is_better else '↓'}" for m in metrics]
        table(f"{dataset} — {protocol} (sorted by {board.sorted_by})",
              ["#", "entry", *heads, "trained"], rows)
    note(f"wrote {len(boards.written)} files (Markdown and CSV) to {store}")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .compare import compare, scoring_differences
    from .console import note
    from .results import Store, load

    def resolve(x: str):
        if x.endswith(".json") or Path(x).is_file():
            return load(x)
        label = _spec(args).label if args.dataset or args.data_dir else None
        return Store(_store(args)).find(x, label, args.protocol)

    ra, rb = resolve(args.a), resolve(args.b)
    untestable: list[tuple[str, str]] = []
    tests = compare(ra, rb, args.metric, alpha=args.alpha, untestable=untestable)
    for line in scoring_differences(ra, rb, (ra.name, rb.name)):
        note(line)
    for m, why in untestable:
        note(f"{m} not compared: {why}")
    if args.sentences:
        for t in tests:
            print(t.sentence(ra.name, rb.name))
        return 0
    from .compare import format_p
    from .console import table

    a, b = ra.name, rb.name
    corrected = any(t.p_adjusted is not None for t in tests)
    counts = {t.n for t in tests}
    one_count = len(counts) == 1  # else a column: NaN images are left out per metric
    rows = [(f"{t.metric} {'↑' if t.higher_is_better else '↓'}", t.mean_a, t.mean_b,
             f"{t.mean_diff:+.4f}", f"{t.ci95[0]:+.4f} to {t.ci95[1]:+.4f}",
             format_p(t.p_decision), format_p(t.p_ttest),
             *(() if one_count else (t.n,)), t.short_verdict()) for t in tests]
    ds = ra.dataset
    table(f"A = {a}, B = {b}: {ds['label']}/{ds['split']}, protocol {ra.protocol_name}"
          + (f", {next(iter(counts))} images" if one_count else ""),
          ["metric", "A", "B", "A − B", "95% CI of A − B",
           "Wilcoxon p" + (" (Holm)" if corrected else ""), "paired t p",
           *(() if one_count else ("images",)), "verdict"], rows,
          caption=f"paired over the images both scored (NaN ones left out), alpha "
                  f"{args.alpha}; better: the test and the bootstrap CI agree; "
                  "inconclusive: they disagree; --sentences says it in words")
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    from pathlib import Path

    import numpy as np

    from . import plots
    from .console import note
    from .errors import UserError
    from .rundir import RunDir

    run = RunDir(args.run).require()
    out = Path(args.out) if args.out else run.plots
    made = []
    if args.what == "curves":
        made.append(plots.training_curves(run.log, out / "training-curves", run.entry_name(),
                                          args.format, args.dpi))
    elif args.what == "filters":
        weights, model = run.conv1_weights()
        made.append(plots.filters(weights, out / "filters-conv1", f"{model}: conv1",
                                  args.format, args.dpi))
    else:
        from .data import load

        result = run.result(args.protocol)
        spec = _run_data(args, result)
        val = load(spec, "val")
        preds, names = run.predictions()
        if names != [str(n) for n in val.file_names]:
            raise UserError(f"the run's predictions are for {len(names)} other images than "
                            f"{spec.label}/{val.name}'s {len(val)}", run.preds,
                            f"it was scored on {result.dataset_label}: leave out --dataset, "
                            "--data-dir and --data-seed to draw that")
        metric = args.metric or next(iter(result.metrics))
        made += plots.best_worst(val, preds, result, metric, out, args.k, args.format,
                                 args.dpi)
        if not made:  # no image has a value to rank by
            why = ", ".join(result.metrics[metric].nan_reasons) or "NaN"
            others = [m for m in result.metrics
                      if m != metric and np.isfinite(result.scores(m)).any()]
            raise UserError(f"every image's {metric} is NaN ({why}): no image to rank",
                            run.path, f"rank by {others[0]} with --metric {others[0]}"
                            if others else "no metric of this result has a value")
    for p in made:
        note(f"wrote {p}")
    return 0


def _add_dataset_args(p: argparse.ArgumentParser, default: str | None = None) -> None:
    """``default``: what a command reads when none of the three is given (the usual
    choice otherwise: salicon/study when --data-dir holds one, else synth, seed 0)."""
    default = default or "salicon/study when --data-dir holds one, else synth"
    p.add_argument("--dataset", choices=("synth", "salicon", "study"), default=None,
                   help="synth (generated), salicon (a folder made by 'salbench data "
                        "prepare') or study (a folder with the study's train.pkl and "
                        f"val.pkl); default: {default}")
    p.add_argument("--data-dir", help="the salicon or study folder (or $SALBENCH_DATA)")
    p.add_argument("--data-seed", type=int, default=None,
                   help="the synthetic set's seed (default 0)")


def _add_scoring_args(p: argparse.ArgumentParser, seed_flag: str) -> None:
    p.add_argument("--protocol", nargs="+", default=[DEFAULT_PROTOCOL], choices=PROTOCOL_NAMES,
                   help=f"one or more (default: {DEFAULT_PROTOCOL}); 'salbench metrics' lists "
                        "them")
    p.add_argument("--protocol-option", action="append", metavar="FIELD=VALUE",
                   help="change a protocol field (a variant, recorded under its own name); "
                        "repeatable")
    p.add_argument("--gt-maps", action="store_true",
                   help="cc/kld/sim/emd against the data set's own maps (SALICON 2017's "
                        "maps/) instead of blurred fixations")
    p.add_argument("--metrics", help="comma-separated (default: each protocol's set)")
    p.add_argument(seed_flag, type=int, default=0, help="seed of the sampled metrics")
    p.add_argument("--normalize", choices=("clip", "minmax"),
                   help="make maps fit the protocol first: clip to [0, 1], or min-max scale "
                        "each map (recorded); without it, maps a protocol cannot take are "
                        "refused")


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors in salbench's one-line form."""

    def error(self, message: str):  # type: ignore[override]
        print(f"salbench: error: {message} ({self.prog}); see '{self.prog} --help'",
              file=sys.stderr)
        raise SystemExit(2)

    def _check_value(self, action, value):  # argparse's choices check, plus did-you-mean
        try:
            super()._check_value(action, value)
        except argparse.ArgumentError as exc:
            from .suggest import did_you_mean

            hint = did_you_mean(value, action.choices or ())
            if not hint:
                raise
            raise argparse.ArgumentError(action, exc.message + hint) from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="salbench",
        description="Metrics-first benchmark for visual saliency prediction.",
    )
    parser.add_argument("--version", action="version", version=f"salbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("run", help="train or load a model, predict val, score, record",
                       description="Train (with --train) or load a model, predict the val "
                                   "split, score it and record the result in the store.")
    p.add_argument("model", help="a registry name (salbench models)")
    p.add_argument("--train", action="store_true",
                   help="train first (continues from the run's newest checkpoint)")
    _add_dataset_args(p)
    p.add_argument("--epochs", type=int,
                   help="the schedule's length (default: the card's; the learning rate runs "
                        "linspace(start, end, EPOCHS))")
    p.add_argument("--stop-after", type=int, metavar="N",
                   help="stop after N epochs of the schedule (resumable: run again with a "
                        "larger N, or without it, to continue)")
    p.add_argument("--checkpoint-every", type=int, metavar="N", help="default: the card's")
    p.add_argument("--resume", metavar="PATH", help="continue from this checkpoint")
    p.add_argument("--no-resume", action="store_true",
                   help="train from scratch (earlier checkpoints are moved aside)")
    p.add_argument("--seed", type=int, default=0, help="training seed")
    p.add_argument("--device", default="auto", help="auto (cuda if present), cpu, cuda, cuda:1")
    p.add_argument("--compile", choices=COMPILE_CHOICES, metavar="MODE",
                   help="torch.compile: auto (on CUDA; the default), on, off, or "
                        "reduce-overhead (CUDA graphs: fewer kernel launches, CUDA only)")
    p.add_argument("--out", help="run directory (default runs/ENTRY/DATASET)")
    _add_scoring_args(p, "--score-seed")
    p.add_argument("--name", help="the entry's name on the boards (default: the model plus "
                                  "what differs from its card, e.g. shallow-pan@3ep)")
    p.add_argument("--preds-pkl", action="store_true", help="also write the study's preds.pkl")
    p.add_argument("--store", help=STORE_HELP)
    p.add_argument("--no-record", action="store_true", help="do not store the result")
    p.add_argument("--no-plots", action="store_true")
    p.add_argument("--plot-format", choices=("png", "pdf", "svg"), default="png")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("score", help="score a predictions file against a dataset's val split",
                       description="Score predictions against the val split: the result is "
                                   "printed and stored in the result store (--store; "
                                   "--no-store to skip); --out writes a copy of it.")
    p.add_argument("preds", help="preds.pkl (the study's), .npz, .npy or a folder of map images")
    _add_dataset_args(p)
    _add_scoring_args(p, "--seed")
    p.add_argument("--name", help="the entry's name (default: the file's name)")
    p.add_argument("--out", help="also write the result JSON here (one per protocol)")
    p.add_argument("--store", help=STORE_HELP)
    p.add_argument("--no-store", action="store_true", help="do not store the result")
    p.set_defaults(func=_cmd_score)

    p = sub.add_parser("leaderboard", help="rebuild and print the leaderboards of a store")
    p.add_argument("--store", help=STORE_HELP)
    p.add_argument("--sort", help="a metric on the boards (default: cc)")
    p.set_defaults(func=_cmd_leaderboard)

    p = sub.add_parser("compare", help="paired test of two entries over per-image scores")
    p.add_argument("a", help="a result JSON, or an entry name in the store")
    p.add_argument("b")
    p.add_argument("--metric", help="one metric (default: every shared metric, "
                                    "Holm-corrected)")
    p.add_argument("--protocol", help="which protocol's results (needed when an entry has "
                                      "several)")
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--sentences", action="store_true",
                   help="one sentence per metric (to quote) instead of the table")
    _add_dataset_args(p)
    p.add_argument("--store", help=STORE_HELP)
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("plot", help="training curves, first-layer filters, qualitative grids")
    p.add_argument("what", choices=("curves", "filters", "grid"))
    p.add_argument("run", help="a run directory (salbench run --out)")
    p.add_argument("--out", help="where figures go (default RUN/plots)")
    p.add_argument("--metric", help="grid: rank images by this metric")
    p.add_argument("--protocol", help="grid: the run's result under this protocol (needed when "
                                      "it has several)")
    p.add_argument("--k", type=int, default=4, help="grid: images per figure")
    p.add_argument("--format", choices=("png", "pdf", "svg"), default="png")
    p.add_argument("--dpi", type=int, default=150)
    _add_dataset_args(p, default="the data set the run was scored on")
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
    q.add_argument("--out", required=True, help="where train.npz, val.npz (and val-maps.npz) go")
    q.add_argument("--edition", choices=("auto", "2015", "2017"), default="auto")
    q.add_argument("--fixations", choices=("fixations", "mouse"), default="fixations",
                   help="2017 only: the fixations, or the raw mouse samples")
    q.set_defaults(func=_cmd_data_prepare)
    q = dsub.add_parser("info", help="counts, sizes, fixations, centre bias, fingerprint")
    _add_dataset_args(q)
    q.add_argument("--split", nargs="+", choices=("train", "val"), default=["train", "val"])
    q.set_defaults(func=_cmd_data_info)
    q = dsub.add_parser("export", help="write train.pkl / val.pkl in the study's format",
                        description="Write the data set as the study's train.pkl and val.pkl. "
                                    "val.pkl carries every original image as float32 "
                                    "(X_original, about 3.5 MB per 480x640 image); "
                                    "--no-originals leaves them out.")
    _add_dataset_args(q)
    q.add_argument("--out", required=True)
    q.add_argument("--no-originals", action="store_true",
                   help="leave X_original out of val.pkl (it is most of the file)")
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
    import contextlib

    import numpy as np

    from .errors import UserError

    numba_start = contextlib.nullcontext()
    if args.func in (_cmd_run, _cmd_score):  # they score: a cheaper numba start-up
        from .metrics._startup import load_cython_blas_alone, numba_without_coverage

        load_cython_blas_alone()
        numba_start = numba_without_coverage()
    try:
        # NaN rules are explicit: no RuntimeWarning noise
        with numba_start, np.errstate(all="ignore"):
            return int(args.func(args) or 0)
    except UserError as exc:
        print(f"salbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("salbench: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        from .errors import is_torch_missing, needs_torch
        from .metrics._jit_cache import damaged_cache

        if is_torch_missing(exc):  # a network's work, where only `pip install -e .` ran
            print(f"salbench: error: {needs_torch(f'salbench {args.command}')}",
                  file=sys.stderr)
            return 2
        where = damaged_cache(exc)
        if where is None:
            raise  # a bug: its traceback stays
        print(f"salbench: error: numba's cache of the metric kernels is damaged "
              f"({type(exc).__name__} reading it) ({where}); delete that folder: the "
              "kernels compile again", file=sys.stderr)
        return 2


def console(argv: list[str] | None = None) -> int:
    """The ``salbench`` command: :func:`main` with fewer collections, then a quick exit
    (everything alive frozen out of the collector once the streams are flushed: see
    ``_process``).  For the command line only: library callers use :func:`main`, which
    leaves the collector alone."""
    from ._process import collect_less, freeze_for_exit
    from .console import readable_streams

    collect_less()
    readable_streams()
    rc = main(argv)
    freeze_for_exit()
    return rc


if __name__ == "__main__":  # pragma: no cover
    sys.exit(console())
