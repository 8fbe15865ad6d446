"""Named evaluation protocols: every choice that changes a score, fixed and written down.

A score is only meaningful with its protocol: the same metric name under two protocols is
two different numbers.  This module has no heavy imports so that ``salbench metrics`` can
list everything instantly.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class MetricInfo:
    name: str
    higher_is_better: bool
    summary: str
    sampled: bool = False  # depends on random draws (seeded)


_M = MetricInfo
METRICS: dict[str, MetricInfo] = {
    m.name: m
    for m in (
        _M("cc", True, "Pearson correlation between prediction and continuous ground truth"),
        _M("nss", True, "mean z-scored prediction at fixated pixels"),
        _M("kld", False, "KL divergence of the prediction from the ground-truth distribution"),
        _M("sim", True, "histogram intersection of prediction and ground-truth distributions"),
        _M("ig", True, "information gain over a centre-bias baseline, bits per fixation"),
        _M("auc_judd", True, "AUC, thresholds at fixated values, negatives = unfixated pixels"),
        _M("auc_borji", True, "AUC, negatives drawn uniformly from all pixels", sampled=True),
        _M("sauc", True, "shuffled AUC, negatives from other images' fixations", sampled=True),
        _M("auc_borji@expected", True,
           "auc_borji's expected value over infinitely many splits (deterministic)"),
        _M("sauc@expected", True,
           "sauc's expected value over infinitely many splits, for the drawn other map"),
    )
}


@dataclass(frozen=True)
class Protocol:
    """Every choice that changes a number.

    ``details`` spells each choice out for people; the typed fields drive the kernels.
    """

    name: str
    summary: str
    metrics: tuple[str, ...]  # what the protocol defines; others are refused
    default_metrics: tuple[str, ...]
    resize: str  # "pillow-bicubic-uint8" | "matlab-bicubic"
    clip: bool  # clip the prediction to [0, 1] before quantising (pillow path only)
    prediction_blur_sigma: float | None
    gt_sigma: float  # ground truth = binary fixation map blurred with this sigma (px) ...
    gt_sigma_reference_width: int | None  # ... at this max(H, W); None: fixed in pixels
    std_ddof: int
    auc: str  # "grid-arange" | "grid-colon" | "exact"
    step: float
    splits: int
    sauc_pool: str  # "random-10" | "other-10" | "all-other-fixations"
    judd_jitter: float
    nan_policy: str  # "propagate": a NaN image makes the mean NaN; "omit": skipped, counted
    ig_baseline: str
    details: tuple[str, ...] = field(default=())

    def gt_sigma_for(self, shape: tuple[int, int]) -> float:
        if self.gt_sigma_reference_width is None:
            return self.gt_sigma
        return self.gt_sigma * max(shape) / self.gt_sigma_reference_width

    def check_metrics(self, metrics: list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
        """Validate metric names for this protocol; ``None`` gives its default set."""
        if metrics is None:
            return self.default_metrics
        out = []
        for m in metrics:
            _check_known(m)
            if m not in self.metrics:
                raise ValueError(
                    f"metric {m!r} is not defined by protocol {self.name!r} (it defines "
                    f"{', '.join(self.metrics)}); choose another protocol for it")
            if m not in out:
                out.append(m)
        if not out:
            raise ValueError("no metrics requested")
        return tuple(out)

    def select_metrics(self, metrics: list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
        """The requested metrics this protocol defines (for one request put to several
        protocols); unknown names, or none defined here, are refused."""
        if metrics is None:
            return self.default_metrics
        for m in metrics:
            _check_known(m)
        mine = [m for m in metrics if m in self.metrics]
        if not mine:
            raise ValueError(f"protocol {self.name!r} defines none of {', '.join(metrics)} "
                             f"(it defines {', '.join(self.metrics)})")
        return self.check_metrics(mine)


def _check_known(metric: str) -> None:
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}{_did_you_mean(metric, METRICS)}; "
                         f"known: {', '.join(METRICS)}")


def _did_you_mean(name: str, options) -> str:
    close = difflib.get_close_matches(name, list(options), n=3, cutoff=0.5)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


REPLICATION = Protocol(
    name="replication",
    summary="the replication study's evaluation script (its Target / Our results rows), seeded",
    metrics=("cc", "sauc", "auc_borji", "sauc@expected", "auc_borji@expected"),
    default_metrics=("cc", "sauc", "auc_borji"),
    resize="pillow-bicubic-uint8",
    clip=True,
    prediction_blur_sigma=2.0,
    gt_sigma=19.0,
    gt_sigma_reference_width=None,
    std_ddof=0,
    auc="grid-arange",
    step=0.1,
    splits=100,
    sauc_pool="random-10",
    judd_jitter=0.0,
    nan_policy="propagate",
    ig_baseline="none",
    details=(
        "prediction: clipped to [0,1] (the original did not clip and wrapped values outside "
        "[0,1] when casting), (p*255) truncated to uint8 in the prediction's own precision, "
        "Pillow bicubic resize to the image size, /255 in float32, Gaussian blur sigma=2 "
        "(scipy gaussian_filter: reflect, truncate 4) in float32",
        "resize: Pillow's classic two-pass bicubic (horizontal pass, 8-bit intermediate, "
        "vertical pass), bit-exact with Pillow for predictions no taller than the image (the "
        "study's 48x48 maps); recent Pillow releases may resize a shrinking height first",
        "cc: ground truth = binary fixation map blurred with sigma=19 (same filter), min-max "
        "normalised; both maps z-scored with population std; r = Σab / sqrt(Σa² Σb²) "
        "(accumulated in float64)",
        "auc_borji: prediction min-max normalised (float32); positives = values at fixated "
        "pixels (duplicates collapse); 100 splits, each drawing as many negatives as "
        "positives uniformly from all pixels with replacement; thresholds numpy "
        "arange(0, max(pos ∪ neg), 0.1) descending (top excluded, values k*0.1); curve "
        "padded with (0,0) and (1,1); trapezoid area; mean over splits; values compared with "
        "the thresholds in float64 (numpy >= 2; numpy 1.x cast the thresholds to float32, "
        "which differs only for a value exactly at float32(k/10))",
        "sauc: as auc_borji, negatives from the union of the binary fixation maps of 10 "
        "images drawn from the split without replacement (the image itself may be drawn); "
        "per split a random permutation of that pool keeps min(#positives, #pool) pixels; fp "
        "divided by that count",
        "dataset score: mean over images; a NaN image makes the mean NaN, as np.mean did "
        "(the count is reported). The original was unseeded; salbench seeds every draw",
    ),
)

MIT = Protocol(
    name="mit",
    summary="MIT Saliency Benchmark MATLAB code (code_forMetrics) semantics, seeded",
    metrics=("cc", "nss", "kld", "sim", "ig", "auc_judd", "auc_borji", "sauc",
             "auc_borji@expected", "sauc@expected"),
    default_metrics=("cc", "nss", "kld", "sim", "ig", "auc_judd", "auc_borji", "sauc"),
    resize="matlab-bicubic",
    clip=False,
    prediction_blur_sigma=None,
    gt_sigma=24.0,
    gt_sigma_reference_width=640,
    std_ddof=1,
    auc="grid-colon",
    step=0.1,
    splits=100,
    sauc_pool="other-10",
    judd_jitter=1e-7,
    nan_policy="omit",
    ig_baseline="center-prior",
    details=(
        "prediction: MATLAB imresize bicubic to the image size (antialiased when shrinking), "
        "float64; no blur",
        "fixations: binary fixation map (duplicates collapse)",
        "ground truth (cc, kld, sim): fixation map blurred with sigma = 24 px at 640 px "
        "(8 cycles/image; scaled with max(H, W)), reflect borders, truncate 4",
        "cc: Pearson correlation; nss: std with N-1",
        "auc_judd: 1e-7 uniform jitter (seeded), min-max normalised; thresholds at fixated "
        "values; tp_i = i/n_fix, fp_i = (#pixels >= thr_i - i)/(n_pixels - n_fix)",
        "auc_borji / sauc: 100 splits; thresholds MATLAB 0:0.1:max (colon operator: top "
        "included when reached, symmetric fill); sauc's other map = union of 10 other images",
        "kld: eps = 2.220446049250313e-16 (MATLAB eps), maps sum-normalised; bicubic "
        "overshoot below 0 is clipped (MATLAB's uint8 maps cannot go below 0)",
        "sim: both maps min-max then sum-normalised; ig: bits, against the centre prior "
        "(Gaussian, sigma = H/4, W/4) unless a baseline map is given",
        "NaN where the MATLAB code returns NaN (no fixations, constant maps); dataset means "
        "skip NaN images and report how many",
    ),
)

EXACT = Protocol(
    name="exact",
    summary="no sampling, no threshold grid: exact Mann-Whitney AUCs (pysaliency semantics)",
    metrics=("cc", "nss", "kld", "sim", "ig", "auc_judd", "auc_borji", "sauc"),
    default_metrics=("cc", "nss", "kld", "sim", "ig", "auc_judd", "auc_borji", "sauc"),
    resize="matlab-bicubic",
    clip=False,
    prediction_blur_sigma=None,
    gt_sigma=24.0,
    gt_sigma_reference_width=640,
    std_ddof=1,
    auc="exact",
    step=0.1,
    splits=0,
    sauc_pool="all-other-fixations",
    judd_jitter=0.0,
    nan_policy="omit",
    ig_baseline="center-prior",
    details=(
        "AUCs: exact Mann-Whitney areas, ties count one half; every fixation counts "
        "(duplicates too) as a positive",
        "auc_borji negatives = all pixels; auc_judd negatives = unfixated pixels; sauc "
        "negatives = all fixations of all other images of the split, count-weighted, "
        "coordinates rescaled to the image's size (pysaliency / MIT-Tübingen definition)",
        "cc, nss, kld, sim, ig: as in mit (no randomness involved)",
        "dataset means skip NaN images and report how many",
    ),
)

PROTOCOLS: dict[str, Protocol] = {p.name: p for p in (REPLICATION, MIT, EXACT)}


def get_protocol(protocol: str | Protocol) -> Protocol:
    """Look a protocol up by name (or pass one through)."""
    if isinstance(protocol, Protocol):
        return protocol
    try:
        return PROTOCOLS[protocol]
    except KeyError:
        raise ValueError(f"unknown protocol {protocol!r}{_did_you_mean(str(protocol), PROTOCOLS)};"
                         f" known: {', '.join(PROTOCOLS)}") from None
