"""The one evaluation pipeline: predictions + split -> scores -> :class:`Result` -> store ->
leaderboards.  ``salbench run``, ``salbench score`` and the Python API all call
:func:`evaluate`.

Every protocol's request is checked before any image is scored (metric names, counts,
shapes, value ranges, pools, ground-truth maps), and nothing is written until every
protocol has been scored, so a bad request leaves no half-written results.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .data.split import Split
from .errors import UserError
from .results import Result, Stopwatch, Store, build, check_name


def protocols_for(names: Sequence[str], changes: dict | None = None,
                  given_maps: bool = False) -> list:
    """The protocols a command means: named ones, each with the same field changes, each
    once (``--protocol mit mit`` scored mit twice and stored it twice over)."""
    from .metrics.protocols import GT_MAPS, get_protocol

    out = []
    for name in names:
        p = get_protocol(name)
        fields = dict(changes or {})
        if given_maps:
            fields["ground_truth"] = GT_MAPS
        p = p.replace(**fields) if fields else p
        if all(q.name != p.name for q in out):
            out.append(p)
    return out


def dataset_info(split: Split, label: str) -> dict:
    """What a result records about the data it was scored on."""
    info = {"label": label, "split": split.name, "fingerprint": split.fingerprint(),
            "n_images": len(split)}
    prep = {k: split.meta[k] for k in ("edition", "fixations", "generator", "seed", "source")
            if k in split.meta}
    if prep:
        info["preparation"] = prep
    return info


def evaluate(predictions, split: Split, *, name: str, dataset_label: str | None = None,
             protocols: Sequence = ("replication",), metrics: Sequence[str] | None = None,
             seed: int = 0, normalize: str | None = None, model: str | None = None,
             card=None, checkpoint: str | None = None, checkpoint_epoch: int | None = None,
             training: dict | None = None, device: dict | None = None,
             store: Store | str | Path | None = None, literature: list[dict] | None = None,
             extra_seconds: float = 0.0, progress: bool = True) -> list[Result]:
    """Score ``predictions`` (one map per image of ``split``, in its order) under each of
    ``protocols`` (names or :class:`~salbench.metrics.Protocol` objects), build one
    :class:`Result` per protocol named ``name``, and, with ``store``, save them there and
    rebuild that store's leaderboards (``literature``: reported rows shown beside them).
    """
    from .metrics import PROTOCOLS, get_protocol
    from .metrics.dataset import PackedFixations, check_request, score_checked

    check_name(name, "result name")
    label = check_name(dataset_label or split.dataset, "dataset label")
    # each protocol once, in order (a name given twice would be scored twice)
    protos = list({p.name: p for p in map(get_protocol, protocols)}.values())
    if not protos:
        raise UserError("no protocol requested", hint="name at least one: "
                        + ", ".join(PROTOCOLS))
    wanted = {p.name: p.select_metrics(metrics) for p in protos}
    fixations = PackedFixations(split.fix_offsets, split.fix_rc)
    names = [str(n) for n in split.file_names]
    gt_maps = _given_maps(split, protos)
    checked = {p.name: check_request(p, wanted[p.name], predictions, fixations, split.sizes,
                                     names=names, gt_maps=gt_maps if _uses_maps(p) else None,
                                     normalize=normalize)
               for p in protos}  # everything every protocol needs, before any work
    info = dataset_info(split, label)
    results = []
    from .metrics import _ahead
    from .progress import progress_bar

    todo = _ahead.pending([(p, wanted[p.name]) for p in protos], _ahead.DATASET)
    if todo:
        with progress_bar(f"compiling {len(todo)} metric kernels (first use; then cached)",
                          len(todo), show=progress) as advance:
            _ahead.compile_entries(todo, advance)

    for p in protos:
        watch = Stopwatch()
        with progress_bar(f"scoring {name} ({p.name})", len(split), show=progress) as advance:
            scores = score_checked(checked[p.name], seed=seed, progress=advance)
        results.append(build(scores, name=name, model=model, dataset=info, card=card,
                             checkpoint=checkpoint, checkpoint_epoch=checkpoint_epoch,
                             training=training, preprocessing={"normalize": normalize},
                             wall_time_s=extra_seconds + watch.seconds, device=device))
    if store is not None:
        record(results, store, literature)
    return results


def record(results: list[Result], store: Store | str | Path, literature=None) -> list[Path]:
    """Save ``results`` in ``store`` and rebuild the leaderboards they are on."""
    from .leaderboard import rebuild
    from .lock import store_lock

    st = store if isinstance(store, Store) else Store(store)
    only = {(r.dataset_label, r.protocol_name) for r in results}
    with store_lock(st.root):  # filed and rebuilt as one: a board lists every result
        for r in results:
            st.save(r)
        return rebuild(st, literature or [], only=only).written


def _uses_maps(proto) -> bool:
    from .metrics.protocols import GT_MAPS

    return proto.ground_truth == GT_MAPS


def _given_maps(split: Split, protos) -> list[np.ndarray] | None:
    if not any(_uses_maps(p) for p in protos):
        return None
    maps = split.gt_maps()
    if maps is None:
        raise UserError(f"{split.dataset}/{split.name} has no given ground-truth maps",
                        hint="prepare SALICON 2017 with its maps/ folder, or use the named "
                             "protocol (blurred fixations)")
    return maps
