"""Named evaluation protocols: every choice that changes a score, fixed and written down.

A score is only meaningful with its protocol: the same metric under two protocols is two
numbers.  A :class:`Protocol` is a frozen set of typed fields, each set to one of the named
constants below; the metric kernels branch on those fields, so the path from a metric to
its code is ``metric -> protocol field -> kernel branch`` (grep the constant's name).

* ``replication``: the replication study's evaluation script (its Target / Our results
  rows), seeded;
* ``mit``: the MIT Saliency Benchmark's MATLAB code (``code_forMetrics``), seeded;
* ``salicon``: the SALICON challenge evaluation (NUS-VIP/salicon-evaluation), seeded;
* ``pysaliency``: pysaliency 0.2.22 with the choices of the MIT/Tuebingen benchmark
  (matthias-k/saliency-benchmarking) for saliency-map models;
* ``exact``: salbench's own sampling-free definitions (not any one reference's).

``get_protocol(name).replace(field=value, ...)`` makes a variant; its name records every
field that differs (``mit[judd_jitter=0.0]``), so a variant's scores never pass for the
named protocol's.  This module has no heavy imports: ``salbench metrics`` lists
everything instantly.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field

from ..errors import UserError
from ..suggest import did_you_mean, unknown

# ---- named choices ---------------------------------------------------------------------

# resize: how a prediction is brought to its image's size
RESIZE_PILLOW_U8 = "pillow-bicubic-uint8"  # (p*255) truncated to uint8, Image.resize bicubic
RESIZE_MATLAB_BICUBIC = "matlab-bicubic"  # imresize(A, [H W]), antialiased when shrinking
RESIZE_ZOOM_CUBIC = "scipy-zoom-cubic"  # ndimage.zoom(order=3), mode constant
RESIZE_ZOOM_LINEAR = "scipy-zoom-linear"  # ndimage.zoom(order=1, mode='nearest')
RESIZES = (RESIZE_PILLOW_U8, RESIZE_MATLAB_BICUBIC, RESIZE_ZOOM_CUBIC, RESIZE_ZOOM_LINEAR)

# ground_truth: where cc/kld/sim/emd's continuous map comes from
GT_FIXATIONS = "blurred-fixations"
GT_MAPS = "given-maps"  # the data set's own maps (SALICON 2017 maps/*.png); required
GROUND_TRUTHS = (GT_FIXATIONS, GT_MAPS)

# gt_blur: how the fixation map is blurred
BLUR_GAUSSIAN_REFLECT = "gaussian-reflect"  # scipy gaussian_filter, mode reflect, truncate 4
BLUR_ANTONIO = "antonio-fft"  # MIT antonioGaussian.m: FFT on a power-of-two zero-padded square
GT_BLURS = (BLUR_GAUSSIAN_REFLECT, BLUR_ANTONIO)

# gt_fixation_map: what is blurred
FIXMAP_BINARY = "binary"  # 1 at every fixated pixel (duplicates collapse)
FIXMAP_COUNTS = "counts"  # fixations per pixel (duplicates add)
FIXMAPS = (FIXMAP_BINARY, FIXMAP_COUNTS)

# fixation_filter: which fixations of an image take part
FILTER_NONE = "none"
FILTER_SALICON = "salicon-repeats"  # SALICON's filterAnns: a point seen k >= 2 times, k-1 times
FILTERS = (FILTER_NONE, FILTER_SALICON)

# auc_positives, nss_positives: which fixations count (AUC positives; NSS's average)
POS_PIXELS = "fixated-pixels"  # the binary fixation map: each fixated pixel once
POS_FIXATIONS = "every-fixation"  # each fixation, duplicates too
POSITIVES = (POS_PIXELS, POS_FIXATIONS)

# cc_constant, nss_constant, grid_constant: a constant prediction
CONSTANT_NAN = "nan"  # the reference divides by a zero standard deviation (or range)
CONSTANT_ZERO = "zero"  # it skips the division: cc/nss 0, grid AUCs see an all-0 map (0.5)
CONSTANTS = (CONSTANT_NAN, CONSTANT_ZERO)

# density: how kld and sim turn maps into distributions
DENSITY_MIT = "mit"  # KLdiv.m: /sum if any(map); similarity.m: min-max, then /sum
DENSITY_PYSALIENCY = "pysaliency"  # shift by min if negative, /sum (uniform if the sum is 0)
DENSITIES = (DENSITY_MIT, DENSITY_PYSALIENCY)

# kld_negative: kld of a prediction with negative values
NEGATIVE_NAN = "nan"  # MATLAB's log turns complex: NaN, counted
NEGATIVE_REFUSE = "refuse"  # refused before scoring, naming the image
NEGATIVE_SHIFT = "shift"  # shifted by the minimum (pysaliency's density)
KLD_NEGATIVES = (NEGATIVE_NAN, NEGATIVE_REFUSE, NEGATIVE_SHIFT)

# auc: how auc_borji and sauc integrate
AUC_GRID_ARANGE = "grid-arange"  # numpy arange(0, max, step): top excluded, values k*step
AUC_GRID_COLON = "grid-colon"  # MATLAB 0:step:max: top included when reached
AUC_MANN_WHITNEY = "mann-whitney"  # exact area, ties count one half
AUCS = (AUC_GRID_ARANGE, AUC_GRID_COLON, AUC_MANN_WHITNEY)

# sauc_pool: sauc's negatives
POOL_RANDOM_10 = "random-10-maps"  # union of 10 maps drawn from the split (self allowed)
POOL_OTHER_10 = "other-10-maps"  # union of 10 other images' maps
POOL_ALL_OTHER = "all-other-fixations"  # every fixation of every other image, count-weighted
POOL_SALICON = "salicon-shuffled-map"  # images fixating each pixel, own fixated pixels removed
POOLS = (POOL_RANDOM_10, POOL_OTHER_10, POOL_ALL_OTHER, POOL_SALICON)

# rescale: other images' fixations in this image's frame
RESCALE_FLOOR = "integer-floor"  # floor(x * W / W_other), exact
RESCALE_FLOAT = "float-truncate"  # int(float(x) * (W / W_other)), as pysaliency
RESCALES = (RESCALE_FLOOR, RESCALE_FLOAT)

# judd: the AUC-Judd curve
JUDD_MIT = "mit"  # AUC_Judd.m: fp_i = (#pixels >= t_i - i) / (N - n_fix), fixated pixels
JUDD_PYSALIENCY = "pysaliency"  # ROC at every fixated value, unfixated pixels as negatives
JUDD_MANN_WHITNEY = "mann-whitney"  # exact area against unfixated pixels
JUDDS = (JUDD_MIT, JUDD_PYSALIENCY, JUDD_MANN_WHITNEY)

# judd_noise: the tie-breaking jitter's distribution
NOISE_UNIFORM = "uniform"  # rand * amplitude (MATLAB)
NOISE_NORMAL = "normal"  # randn * amplitude (pysaliency)
NOISES = (NOISE_UNIFORM, NOISE_NORMAL)

# emd_solver: how emd's transport problem is solved
EMD_FASTEMD = "fastemd"  # Pele & Werman's FastEMD, as MIT's EMD.m calls it (masses rounded
#                         to 1e-6 of the total; ~0.2 s per 15x20 problem)
EMD_EXACT = "exact-lp"  # the exact optimal transport cost (POT's network simplex)
EMD_SOLVERS = (EMD_FASTEMD, EMD_EXACT)

# nan_policy: dataset means
NAN_PROPAGATE = "propagate"  # a NaN image makes the mean NaN (np.mean)
NAN_OMIT = "omit"  # NaN images are skipped and counted
NAN_POLICIES = (NAN_PROPAGATE, NAN_OMIT)

MATLAB_EPS = 2.220446049250313e-16
PYSALIENCY_EPS = 2.2204e-16  # saliency-benchmarking's KLDiv regularisation, as typed there
PER_POSITIVE = 0  # borji_negatives: as many negatives as positives


# ---- metrics ------------------------------------------------------------------------------


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
        _M("nss", True, "mean z-scored prediction at fixations"),
        _M("kld", False, "KL divergence of the prediction from the ground-truth distribution"),
        _M("sim", True, "histogram intersection of prediction and ground-truth distributions"),
        _M("ig", True, "information gain over a centre-bias baseline, bits per fixation"),
        _M("emd", False, "earth mover's distance between the two distributions (FastEMD "
                         "under mit, an exact transport solver under exact)"),
        _M("auc_judd", True, "AUC, thresholds at fixated values, negatives = unfixated pixels",
           sampled=True),
        _M("auc_borji", True, "AUC, negatives drawn uniformly from all pixels", sampled=True),
        _M("sauc", True, "shuffled AUC, negatives from other images' fixations", sampled=True),
        _M("auc_borji@expected", True,
           "auc_borji's expected value over infinitely many splits (deterministic)"),
        _M("sauc@expected", True,
           "sauc's expected value over infinitely many splits, for the drawn other map"),
    )
}


def _metric_list(metrics) -> list[str]:
    """Requested metric names; one string is a comma-separated list ("cc" is not its
    letters)."""
    if isinstance(metrics, str):
        return [m.strip() for m in metrics.split(",") if m.strip()]
    return list(metrics)


def _check_known(metric: str) -> None:
    if metric not in METRICS:
        raise UserError(unknown("metric", metric, METRICS))


# ---- protocols ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Protocol:
    """Every choice that changes a number.  ``details`` spells each one out for people;
    the typed fields (values from the constants above) drive the kernels."""

    name: str
    summary: str
    metrics: tuple[str, ...]  # what the protocol defines; others are refused
    default_metrics: tuple[str, ...]
    resize: str
    unit_range: bool  # predictions must lie in [0, 1] (the 8-bit cast needs it)
    prediction_blur_sigma: float | None  # Gaussian blur of the resized prediction (px)
    ground_truth: str
    gt_blur: str
    gt_sigma: float  # BLUR_GAUSSIAN_REFLECT: sigma in pixels
    gt_cutoff: float  # BLUR_ANTONIO: cut-off frequency, cycles per (padded) image
    gt_fixation_map: str
    fixation_filter: str
    auc_positives: str
    nss_positives: str
    nss_ddof: int
    cc_constant: str
    nss_constant: str
    grid_constant: str
    density: str
    kld_eps: float
    kld_negative: str
    auc: str
    step: float
    splits: int
    borji_negatives: int  # PER_POSITIVE, or a fixed number of uniform draws per split
    borji_min_fixated: int  # fewer fixated pixels than this: auc_borji is NaN
    sauc_pool: str
    rescale: str
    judd: str
    judd_jitter: float
    judd_noise: str
    emd_downsize: int
    emd_solver: str
    nan_policy: str
    details: tuple[str, ...] = field(default=(), compare=False)
    base: str = ""  # the named protocol a variant derives from ("" for a named one)
    changed: tuple[tuple[str, object], ...] = ()

    def __post_init__(self) -> None:
        allowed = {"resize": RESIZES, "ground_truth": GROUND_TRUTHS, "gt_blur": GT_BLURS,
                   "gt_fixation_map": FIXMAPS, "fixation_filter": FILTERS,
                   "auc_positives": POSITIVES, "nss_positives": POSITIVES,
                   "cc_constant": CONSTANTS, "nss_constant": CONSTANTS,
                   "grid_constant": CONSTANTS, "density": DENSITIES,
                   "kld_negative": KLD_NEGATIVES, "auc": AUCS, "sauc_pool": POOLS,
                   "rescale": RESCALES, "judd": JUDDS, "judd_noise": NOISES,
                   "emd_solver": EMD_SOLVERS, "nan_policy": NAN_POLICIES}
        for f, options in allowed.items():
            v = getattr(self, f)
            if v not in options:
                raise UserError(f"protocol field {f} = {v!r} is not one of "
                                f"{', '.join(options)}{did_you_mean(str(v), options)}",
                                hint="salbench metrics --protocol NAME lists a "
                                     "protocol's choices")
        for m in self.metrics:
            _check_known(m)
        for f, (whole, lo, lo_open, hi, example) in _NUMBERS.items():
            _check_number(f, getattr(self, f), whole, lo, lo_open, hi, example)
        if not isinstance(self.unit_range, bool):  # "yes" or 1 would pass as true
            raise UserError(f"protocol field unit_range must be a boolean (true or false), got "
                            f"{self.unit_range!r}", hint="e.g. unit_range=false")
        if self.auc != AUC_MANN_WHITNEY and self.splits < 1:
            raise UserError(f"protocol field splits must be at least 1 for a grid AUC, "
                            f"got {self.splits}", hint="e.g. splits=100")

    @property
    def base_name(self) -> str:
        return self.base or self.name

    @property
    def sampled(self) -> bool:
        return self.auc != AUC_MANN_WHITNEY

    def replace(self, **fields) -> Protocol:
        """A variant with ``fields`` changed; its name lists every changed field."""
        base = get_protocol(self.base_name)
        names = {f.name for f in dataclasses.fields(Protocol)} - {"name", "base", "changed",
                                                                     "details", "summary"}
        for k in fields:
            if k not in names:
                raise UserError(unknown("protocol field", k, sorted(names)))
            if k in ("metrics", "default_metrics"):  # what is asked for, not how it scores
                raise UserError(f"protocol field {k} is what the protocol defines, not a "
                                "choice that changes a number",
                                hint="ask for metrics with --metrics (metrics= in Python)")
        new = dataclasses.replace(self, **fields)
        diff = tuple((f, getattr(new, f)) for f in sorted(names)
                     if getattr(new, f) != getattr(base, f))
        if not diff:
            return base
        for f, _ in diff:  # a change that changes no number must not name a variant
            unused = _UNUSED.get(f)
            why = unused(new) if unused else None
            if why:
                raise UserError(f"protocol field {f} is not used by {base.name} where {why}: "
                                f"a variant named for it would claim a change that changes "
                                f"no number", hint="change the field it depends on too, or "
                                "leave it (score that protocol on its own)")
        label = ",".join(f"{k}={_short(v)}" for k, v in diff)
        return dataclasses.replace(new, name=f"{base.name}[{label}]", base=base.name,
                                   changed=diff,
                                   summary=f"{base.summary}; changed: {label}")

    def record(self) -> dict:
        """What a result file records about the protocol."""
        return {"name": self.name, "base": self.base_name,
                "changed": {k: v for k, v in self.changed}, "summary": self.summary,
                "details": list(self.details), "nan_policy": self.nan_policy}

    def fields(self) -> dict:
        """Every typed field and its value (``salbench metrics --protocol NAME``)."""
        skip = {"name", "summary", "details", "base", "changed", "metrics", "default_metrics"}
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if f.name not in skip}

    def check_metrics(self, metrics) -> tuple[str, ...]:
        """Validate metric names for this protocol; ``None`` gives its default set, and
        one string is a comma-separated list (``"cc"``, ``"cc,sauc"``: not its letters)."""
        if metrics is None:
            return self.default_metrics
        metrics = _metric_list(metrics)
        out = []
        for m in metrics:
            _check_known(m)
            if m not in self.metrics:
                raise UserError(f"metric {m!r} is not defined by protocol {self.name!r}",
                                hint=f"it defines {', '.join(self.metrics)}; choose another "
                                     "protocol for it")
            if m not in out:
                out.append(m)
        if not out:
            raise UserError("no metrics requested",
                            hint=f"name at least one of {', '.join(self.metrics)}")
        return tuple(out)

    def select_metrics(self, metrics) -> tuple[str, ...]:
        """The requested metrics this protocol defines (one request put to several
        protocols); unknown names, or none defined here, are refused."""
        if metrics is None:
            return self.default_metrics
        metrics = _metric_list(metrics)
        for m in metrics:
            _check_known(m)
        mine = [m for m in metrics if m in self.metrics]
        if not mine:
            raise UserError(f"protocol {self.name!r} defines none of {', '.join(metrics)}",
                            hint=f"it defines {', '.join(self.metrics)}")
        return self.check_metrics(mine)


# numeric fields: (whole number, lowest, lowest excluded, highest, an example); step's
# thresholds run over maps normalised to [0, 1]; prediction_blur_sigma 0 (or None): none
_NUMBERS = {
    "prediction_blur_sigma": (False, 0.0, False, None, "prediction_blur_sigma=2"),
    "gt_sigma": (False, 0.0, True, None, "gt_sigma=19"),
    "gt_cutoff": (False, 0.0, True, None, "gt_cutoff=8"),
    "nss_ddof": (True, 0, False, 1, "nss_ddof=1"),
    "kld_eps": (False, 0.0, False, None, "kld_eps=2.220446049250313e-16"),
    "step": (False, 0.0, True, 1.0, "step=0.1"),
    "splits": (True, 0, False, 100_000, "splits=100"),
    "borji_negatives": (True, 0, False, 10_000_000,
                        "borji_negatives=0 (as many as positives)"),
    "borji_min_fixated": (True, 0, False, None, "borji_min_fixated=2"),
    "judd_jitter": (False, 0.0, False, None, "judd_jitter=1e-7"),
    "emd_downsize": (True, 1, False, None, "emd_downsize=32"),
}


def _fixations_unused(p: Protocol) -> str | None:
    """How the fixations make a ground truth is unused where the maps are given."""
    return f"ground_truth = {p.ground_truth}" if p.ground_truth != GT_FIXATIONS else None


def _blur_unused(kind: str):
    def why(p: Protocol) -> str | None:
        return _fixations_unused(p) or (None if p.gt_blur == kind else f"gt_blur = {p.gt_blur}")
    return why


def _grid_only(p: Protocol) -> str | None:
    return f"auc = {p.auc}" if p.auc == AUC_MANN_WHITNEY else None


def _jitter_unused(p: Protocol) -> str | None:
    return f"judd = {p.judd}" if p.judd == JUDD_MANN_WHITNEY else None


# fields whose value no kernel reads under the protocol's other choices: why, or None
def _read_by(*metrics: str):
    """Unused where the protocol defines none of ``metrics`` (replication has no auc_judd:
    ``replication[judd_jitter=0]`` would score as replication)."""
    def why(p: Protocol) -> str | None:
        return None if set(metrics) & set(p.metrics) else \
            f"it defines none of {', '.join(metrics)}"
    return why


def _all(*rules):
    def why(p: Protocol) -> str | None:
        return next((w for w in (rule(p) for rule in rules) if w), None)
    return why


_JUDD, _KLD, _NSS = _read_by("auc_judd"), _read_by("kld"), _read_by("nss")
_UNUSED = {"gt_sigma": _blur_unused(BLUR_GAUSSIAN_REFLECT), "gt_cutoff": _blur_unused(BLUR_ANTONIO),
           "gt_blur": _fixations_unused, "gt_fixation_map": _fixations_unused,
           "step": _grid_only, "borji_negatives": _grid_only, "borji_min_fixated": _grid_only,
           "grid_constant": _grid_only, "splits": _grid_only,
           "judd": _JUDD, "judd_jitter": _all(_JUDD, _jitter_unused),
           "judd_noise": _all(_JUDD, _jitter_unused), "kld_eps": _KLD, "kld_negative": _KLD,
           "density": _read_by("kld", "sim"), "emd_downsize": _read_by("emd"),
           "emd_solver": _read_by("emd"), "nss_ddof": _NSS, "nss_constant": _NSS,
           "nss_positives": _NSS, "cc_constant": _read_by("cc")}


def _check_number(f: str, v, whole: bool, lo, lo_open: bool, hi, example: str) -> None:
    """A numeric protocol field: a whole number where one is counted, finite, in range
    (``None`` only where it means "none", as for the prediction's blur)."""
    if v is None and f == "prediction_blur_sigma":
        return
    kind = numbers.Integral if whole else numbers.Real
    ok = isinstance(v, kind) and not isinstance(v, bool) and math.isfinite(v) \
        and (v > lo if lo_open else v >= lo) and (hi is None or v <= hi)
    if not ok:
        what = "a whole number" if whole else "a finite number"
        bound = f"above {lo}" if lo_open else f"at least {lo}"
        bound += f" and at most {hi}" if hi is not None else ""
        raise UserError(f"protocol field {f} must be {what} {bound}, got {v!r}",
                        hint=f"e.g. {example}")


def _short(v) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


_COMMON = dict(prediction_blur_sigma=None, unit_range=False, ground_truth=GT_FIXATIONS,
               gt_sigma=19.0, gt_cutoff=8.0, gt_fixation_map=FIXMAP_BINARY,
               fixation_filter=FILTER_NONE, auc_positives=POS_PIXELS,
               nss_positives=POS_PIXELS, nss_ddof=1,
               cc_constant=CONSTANT_NAN, nss_constant=CONSTANT_NAN, grid_constant=CONSTANT_NAN,
               density=DENSITY_MIT, kld_eps=MATLAB_EPS, kld_negative=NEGATIVE_REFUSE, step=0.1,
               splits=100, borji_negatives=PER_POSITIVE, borji_min_fixated=1,
               rescale=RESCALE_FLOOR, judd=JUDD_MIT, judd_jitter=0.0, judd_noise=NOISE_UNIFORM,
               emd_downsize=32, emd_solver=EMD_FASTEMD, nan_policy=NAN_OMIT)


def _protocol(**kw) -> Protocol:
    return Protocol(**{**_COMMON, **kw})


REPLICATION = _protocol(
    name="replication",
    summary="the replication study's evaluation script (its Target / Our results rows), seeded",
    metrics=("cc", "sauc", "auc_borji", "sauc@expected", "auc_borji@expected"),
    default_metrics=("cc", "sauc", "auc_borji"),
    resize=RESIZE_PILLOW_U8, unit_range=True, prediction_blur_sigma=2.0,
    gt_blur=BLUR_GAUSSIAN_REFLECT, gt_sigma=19.0, auc=AUC_GRID_ARANGE,
    sauc_pool=POOL_RANDOM_10, nan_policy=NAN_PROPAGATE,
    details=(
        "prediction: must lie in [0, 1] (the original wrapped values outside [0, 1] in its "
        "8-bit cast; salbench refuses them unless --normalize clip or minmax says what to "
        "do); (p*255) truncated to uint8 in the prediction's own precision, Pillow bicubic "
        "resize to the image size, /255 in float32, Gaussian blur sigma=2 (scipy "
        "gaussian_filter: reflect, truncate 4) in float32",
        "resize: Pillow's classic two-pass bicubic (horizontal pass, 8-bit intermediate, "
        "vertical pass), bit-exact with Pillow for predictions no taller than the image (the "
        "study's 48x48 maps); recent Pillow releases may resize a shrinking height first",
        "cc: ground truth = binary fixation map blurred with sigma=19 (same filter), min-max "
        "normalised; both maps z-scored with population std; r = Σab / sqrt(Σa² Σb²) "
        "(accumulated in float64); NaN for a constant prediction",
        "auc_borji: prediction min-max normalised (float32); positives = values at fixated "
        "pixels (duplicates collapse); 100 splits, each drawing as many negatives as "
        "positives uniformly from all pixels with replacement; thresholds numpy "
        "arange(0, max(pos ∪ neg), 0.1) descending (top excluded, values k*0.1); curve "
        "padded with (0,0) and (1,1); trapezoid area; mean over splits; values compared with "
        "the thresholds in float64 (numpy >= 2)",
        "sauc: as auc_borji, negatives from the union of the binary fixation maps of 10 "
        "images drawn from the split without replacement (the image itself may be drawn); "
        "per split a random permutation of that pool keeps min(#positives, #pool) pixels; fp "
        "divided by that count",
        "dataset score: mean over images; a NaN image (no fixations, constant map) makes the "
        "mean NaN, as np.mean did (the count is reported). The original was unseeded; "
        "salbench seeds every draw",
    ),
)

MIT = _protocol(
    name="mit",
    summary="MIT Saliency Benchmark MATLAB code (code_forMetrics) semantics, seeded",
    metrics=("cc", "nss", "kld", "sim", "ig", "emd", "auc_judd", "auc_borji", "sauc",
             "auc_borji@expected", "sauc@expected"),
    default_metrics=("cc", "nss", "kld", "sim", "ig", "auc_judd", "auc_borji", "sauc"),
    resize=RESIZE_MATLAB_BICUBIC, gt_blur=BLUR_ANTONIO, gt_cutoff=8.0, auc=AUC_GRID_COLON,
    sauc_pool=POOL_OTHER_10, judd=JUDD_MIT, judd_jitter=1e-7, judd_noise=NOISE_UNIFORM,
    borji_min_fixated=2, kld_negative=NEGATIVE_NAN,
    details=(
        "prediction: MATLAB imresize bicubic to the image size (antialiased when shrinking, "
        "the dimension with the smaller scale first), float64; no blur",
        "fixations: binary fixation map (duplicates collapse)",
        "ground truth (cc, kld, sim, emd): antonioGaussian.m of the binary fixation map, fc = "
        "8 cycles per image: zero-padded to n x n (n = 2^ceil(log2(max(H, W) rounded up to "
        "even))), FFT multiplied by exp(-(fx²+fy²)/s²), s = fc/sqrt(ln 2), real part of the "
        "inverse FFT cropped to H x W (about sigma 24 px at 640, no reflection at borders); "
        "the FFT's rounding noise (below 1e-15 of the peak) is taken as 0. On images whose "
        "longer side is at most 64 px the transfer function is cut at the Nyquist frequency "
        "and the filter itself has small negative lobes: they are kept (so kld is NaN there, "
        "as MATLAB's log of a negative number is complex)",
        "cc: Pearson correlation (CC.m), NaN for a constant prediction; nss: std with N-1 over "
        "the whole map, mean over fixated pixels, NaN for a constant prediction",
        "auc_judd: 1e-7 uniform jitter (seeded), min-max normalised; thresholds at fixated "
        "values; tp_i = i/n_fix, fp_i = (#pixels >= thr_i - i)/(n_pixels - n_fix)",
        "auc_borji / sauc: 100 splits; thresholds MATLAB 0:0.1:max (colon operator: top "
        "included when reached); auc_borji is NaN when at most one pixel is fixated "
        "(AUC_Borji.m); sauc's other map = union of 10 other images",
        "kld: KLdiv.m, eps = 2.220446049250313e-16, maps sum-normalised when not all zero; a "
        "prediction with negative values gives NaN (MATLAB's log turns complex); bicubic "
        "overshoot below 0 of a non-negative prediction is clipped at 0 (the benchmark reads "
        "maps as 8-bit images, whose resize cannot go below 0)",
        "sim: similarity.m, both maps min-max then sum-normalised (all-zero maps left alone); "
        "NaN when a map is constant and not zero (e.g. every pixel fixated)",
        "ig: InfoGain.m in bits, against the centre prior (Gaussian, sigma = H/4, W/4) unless a "
        "baseline map is given",
        "emd (ask for it with --metrics: FastEMD takes ~0.2 s per image): EMD.m with downsize "
        "32: the ground truth imresize'd by 1/32 (output ceil(H/32) x ceil(W/32)), the "
        "prediction imresize'd to that size, both sum-normalised, Euclidean ground distance "
        "between pixel positions, FastEMD (pyemd's cpp backend, the same C++ code) with "
        "extra-mass penalty 0",
        "NaN where the MATLAB code returns NaN (no fixations, constant maps); dataset means "
        "skip NaN images and report how many, and why",
    ),
)

SALICON = _protocol(
    name="salicon",
    summary="the SALICON challenge evaluation (NUS-VIP/salicon-evaluation), seeded",
    metrics=("cc", "nss", "auc_borji", "sauc", "auc_borji@expected"),
    default_metrics=("cc", "nss", "auc_borji", "sauc"),
    resize=RESIZE_ZOOM_CUBIC, gt_blur=BLUR_GAUSSIAN_REFLECT, gt_sigma=19.0,
    fixation_filter=FILTER_SALICON, auc_positives=POS_FIXATIONS,
    nss_positives=POS_FIXATIONS, nss_ddof=0,
    nss_constant=CONSTANT_ZERO, grid_constant=CONSTANT_ZERO, step=0.01,
    splits=1, borji_negatives=100_000, auc=AUC_GRID_ARANGE, sauc_pool=POOL_SALICON,
    nan_policy=NAN_PROPAGATE,
    details=(
        "fixations: filterAnns (on by default): all observers' fixations pooled, sorted, and "
        "a point kept once for each repeat of it (a point seen k times counts k-1 times; "
        "points seen once are dropped); every kept fixation counts, duplicates too",
        "prediction: scipy.ndimage.zoom(order=3) by (H/h, W/w) (mode constant, spline "
        "prefilter), float64; the reference reads the map from an 8-bit image "
        "(img_as_float), salbench takes it as given",
        "cc: ground truth = binary map of the kept fixations blurred with sigma=19 (scipy "
        "gaussian_filter, reflect), min-max normalised; Pearson correlation (np.corrcoef); "
        "NaN for a constant prediction",
        "nss: prediction minus its mean, divided by its population std when its maximum is "
        "above 0 (so 0 for a constant map: the reference gives 0 too, or inf or about "
        "-1e-17 when numpy's mean of the equal values rounds off them); mean over the kept "
        "fixations",
        "auc_borji (the challenge's AUC): prediction shifted to min 0 and divided by its max "
        "when positive; one split of 100,000 negatives drawn uniformly from all pixels with "
        "replacement; thresholds numpy arange(0, max(pos ∪ neg), 0.01) descending; trapezoid "
        "area (a constant map gives 0.5)",
        "sauc (the challenge's SAUC, no sampling): negatives are the pixels of the shuffled "
        "map (how many images fixate each pixel, from the kept fixations of every image of "
        "the split) except this image's kept fixated pixels, weighted by that count; "
        "thresholds arange(0, max, 0.01); the reference assumes every image is 480x640, "
        "salbench needs all images of the split to have one size",
        "dataset score: mean over images (np.mean: a NaN image makes the mean NaN). The "
        "reference's draws were unseeded; salbench seeds them",
    ),
)

PYSALIENCY = _protocol(
    name="pysaliency",
    summary="pysaliency 0.2.22 as the MIT/Tuebingen benchmark (saliency-benchmarking) uses it",
    metrics=("cc", "nss", "kld", "sim", "auc_judd", "auc_borji", "sauc"),
    default_metrics=("cc", "nss", "kld", "sim", "auc_judd", "auc_borji", "sauc"),
    resize=RESIZE_ZOOM_LINEAR, gt_blur=BLUR_GAUSSIAN_REFLECT, gt_sigma=23.99,
    gt_fixation_map=FIXMAP_COUNTS, auc_positives=POS_FIXATIONS,
    nss_positives=POS_FIXATIONS, nss_ddof=0,
    cc_constant=CONSTANT_ZERO, nss_constant=CONSTANT_ZERO, density=DENSITY_PYSALIENCY,
    kld_eps=PYSALIENCY_EPS, kld_negative=NEGATIVE_SHIFT,
    auc=AUC_MANN_WHITNEY, splits=0, sauc_pool=POOL_ALL_OTHER, rescale=RESCALE_FLOAT,
    judd=JUDD_PYSALIENCY, judd_jitter=1e-7, judd_noise=NOISE_NORMAL,
    details=(
        "prediction: ResizingSaliencyMapModel, scipy.ndimage.zoom(order=1, mode='nearest') "
        "to the image size; no blur",
        "fixations: every fixation counts, duplicates too (positives, nss)",
        "ground truth (cc, kld, sim): the benchmark's empirical map, pysaliency FixationMap: "
        "fixation counts per pixel blurred with sigma 23.99 px (scipy gaussian_filter, "
        "reflect, truncate 4)",
        "cc: pysaliency CC: both maps z-scored (population std, skipped when 0); 0 for a "
        "constant prediction against a non-constant ground truth, NaN otherwise",
        "nss: (map - mean) / std with population std (skipped when 0, so a constant map gives "
        "0; pysaliency itself may give +-1 there, when numpy's mean of the equal values "
        "rounds off them and the std is that rounding), mean over every fixation",
        "kld: image_based_kl_divergence as the benchmark calls it: both maps made densities "
        "(shifted by their minimum when negative, divided by the sum, uniform when the sum is "
        "0), Σ g log(2.2204e-16 + g / (p + 2.2204e-16))",
        "sim: Σ min of the two densities (made as for kld)",
        "auc_borji (pysaliency's AUC, uniform nonfixations): exact ROC area of every fixation "
        "against every pixel, ties count one half",
        "sauc: exact ROC area against every fixation of every other image of the split, "
        "rescaled as int(float(x) * (W / W_other))",
        "auc_judd: pysaliency AUC_Judd: 1e-7 normal jitter (seeded), thresholds at the fixated "
        "values (every fixation), unfixated pixels as negatives, trapezoid over the curve",
        "dataset means skip images without fixations (pysaliency averages per image over "
        "images with fixations) and NaN images, and report how many",
    ),
)

EXACT = _protocol(
    name="exact",
    summary="salbench's own sampling-free definitions: exact Mann-Whitney AUCs, MIT-style maps",
    metrics=("cc", "nss", "kld", "sim", "ig", "emd", "auc_judd", "auc_borji", "sauc"),
    default_metrics=("cc", "nss", "kld", "sim", "ig", "auc_judd", "auc_borji", "sauc"),
    resize=RESIZE_MATLAB_BICUBIC, gt_blur=BLUR_ANTONIO, gt_cutoff=8.0,
    auc_positives=POS_FIXATIONS, auc=AUC_MANN_WHITNEY, splits=0, sauc_pool=POOL_ALL_OTHER,
    judd=JUDD_MANN_WHITNEY, emd_solver=EMD_EXACT,
    details=(
        "salbench's own definition set, not any one reference's: no sampling, no threshold "
        "grid, deterministic",
        "AUCs: exact Mann-Whitney areas, ties count one half; every fixation counts "
        "(duplicates too) as a positive; auc_borji negatives = all pixels; auc_judd negatives "
        "= unfixated pixels; sauc negatives = all fixations of all other images of the split, "
        "count-weighted, coordinates rescaled to the image's size with integer floor",
        "prediction resize, ground truth (antonioGaussian), cc, nss (fixated pixels, N-1), "
        "kld, sim and ig: as in mit; kld refuses a prediction with negative values "
        "(--normalize minmax makes one non-negative)",
        "emd (ask for it with --metrics): EMD.m's preprocessing, the transport problem solved "
        "exactly (POT's network simplex) instead of FastEMD's 1e-6 integer rounding",
        "dataset means skip NaN images and report how many, and why",
    ),
)

PROTOCOLS: dict[str, Protocol] = {p.name: p for p in (REPLICATION, MIT, SALICON, PYSALIENCY,
                                                       EXACT)}


def get_protocol(protocol: str | Protocol) -> Protocol:
    """Look a protocol up by name (or pass one through)."""
    if isinstance(protocol, Protocol):
        return protocol
    if protocol in PROTOCOLS:
        return PROTOCOLS[protocol]
    raise UserError(unknown("protocol", str(protocol), PROTOCOLS),
                    hint="'salbench metrics' lists them")
