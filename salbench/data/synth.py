"""``synth``: a SALICON-like dataset generated from a seed, with known saliency.

Each image is a scene on a 480x640 frame: a textured, natural-looking background (noise at
three scales, a horizon-like gradient) and 3-6 objects of four kinds:

* coloured shapes (disc, square, triangle) whose saliency grows with their colour contrast
  against the background behind them;
* face-like patterns (skin-toned oval, dark eyes and mouth), the most salient;
* text-like blocks (rows of dark dashes on a light patch), salient;
* low-contrast distractors (shapes tinted like the background), barely salient;
* busy clutter (patches of fine, high-contrast texture, like foliage or gravel), which a
  generic "what stands out" detector fires on but observers hardly look at.

The ground-truth fixation density mixes a Gaussian blob per object (mass from its kind and
contrast, all computed from what is drawn), a centre-bias Gaussian and a uniform floor.
Object positions are uniform over the frame, so the centre bias is a separate component
and the content carries real information.  About 50 simulated observers make a few
fixations each, drawn from the density; targets (48x48) are those fixations blurred with
sigma = 19 px, as SALICON's maps are made.  Because the density is known, the ``oracle``
model gives each metric's ceiling.

Everything derives from ``(seed, split, index)``: the same seed gives byte-identical data,
and any original image can be re-rendered on demand at full resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .maps import fixation_target
from .split import Split

GENERATOR_VERSION = 1
H, W = 480, 640
N_OBSERVERS = 50
DEFAULT_TRAIN = 2000
DEFAULT_VAL = 500
_SPLIT_CODE = {"train": 1, "val": 2}

# saliency weight per object kind (scaled by contrast for shapes)
_KIND_WEIGHT = {"shape": 1.4, "face": 2.6, "text": 1.8, "distractor": 0.12, "clutter": 0.1}
_KINDS = ("shape", "face", "text", "distractor", "clutter")
_KIND_P = (0.28, 0.17, 0.17, 0.14, 0.24)
CENTER_MASS = 0.25
FLOOR_MASS = 0.06


@dataclass(frozen=True)
class SynthConfig:
    """Which synthetic set: its seed (``[0, 2**32)``, numpy's seed words) and image counts
    (a train split may be empty, for a set only scored on; val holds at least one)."""

    seed: int = 0
    n_train: int = DEFAULT_TRAIN
    n_val: int = DEFAULT_VAL

    def __post_init__(self) -> None:
        from ..errors import UserError, is_whole

        for what, v, lo, hi, flag in (("seed", self.seed, 0, 2**32, "--data-seed 0"),
                                      ("training images", self.n_train, 0, None,
                                       f"--train {DEFAULT_TRAIN}"),
                                      ("validation images", self.n_val, 1, None,
                                       f"--val {DEFAULT_VAL}")):
            if not is_whole(v) or v < lo or (hi is not None and v >= hi):
                bound = f"in [{lo}, 2**32)" if hi else f"a whole number >= {lo}"
                raise UserError(f"synthetic set: {what} must be {bound}, got {v!r}",
                                hint=f"e.g. {flag} (the default)")

    @property
    def key(self) -> str:
        return f"v{GENERATOR_VERSION}-seed{self.seed}-train{self.n_train}-val{self.n_val}"


# ---- scenes ------------------------------------------------------------------------------


@dataclass
class Obj:
    kind: str
    cy: float
    cx: float
    r: float
    shape: str
    color: np.ndarray
    weight: float = 0.0


@dataclass
class Scene:
    noise: list[np.ndarray]
    tint: np.ndarray
    base: np.ndarray
    horizon: float
    sky: np.ndarray
    objects: list[Obj]
    clutter: list[np.ndarray]


def _rng(seed: int, split: str, index: int) -> np.random.Generator:
    return np.random.default_rng([GENERATOR_VERSION, seed, _SPLIT_CODE[split], index])


def make_scene(seed: int, split: str, index: int) -> Scene:
    rng = _rng(seed, split, index)
    noise = [rng.random((3 + 2 * k, 4 + 3 * k)) for k in (0, 2, 5)]
    tint = rng.random((3, 3, 4))
    base = 0.25 + 0.45 * rng.random(3)
    sky = np.clip(base + rng.normal(0, 0.15, 3), 0.05, 0.95)
    horizon = rng.uniform(0.25, 0.6)
    scene = Scene(noise=noise, tint=tint, base=base, horizon=horizon, sky=sky, objects=[],
                  clutter=[])
    for _ in range(int(rng.integers(3, 7))):
        kind = _KINDS[rng.choice(len(_KINDS), p=_KIND_P)]
        r = float(rng.uniform(32, 85))
        cy = float(rng.uniform(r, H - r))
        cx = float(rng.uniform(r, W - r))
        shape = ("disc", "square", "triangle")[int(rng.integers(3))]
        bg = _background_at(scene, np.array([cy / H]), np.array([cx / W]))[:, 0, 0]
        if kind == "distractor":
            color = np.clip(bg + rng.normal(0, 0.04, 3), 0, 1)
        elif kind == "clutter":
            color = np.clip(bg * rng.uniform(0.5, 0.8), 0, 1)  # the dark phase of the texture
            r *= 1.3
            scene.clutter.append(rng.random((12, 12)))
        elif kind == "shape":
            hue = rng.random()
            color = _hue_rgb(hue) * rng.uniform(0.6, 1.0)
            if rng.random() < 0.3:  # some shapes are dull: their weight follows contrast
                color = np.clip(0.5 * color + 0.5 * bg, 0, 1)
        elif kind == "face":
            color = np.array([0.87, 0.68, 0.56]) * rng.uniform(0.55, 1.05)
        else:  # text: a light patch
            color = np.full(3, rng.uniform(0.85, 0.98))
        obj = Obj(kind, cy, cx, r, shape, np.clip(color, 0, 1))
        contrast = float(np.linalg.norm(obj.color - bg)) / np.sqrt(3)
        if kind == "shape":
            obj.weight = _KIND_WEIGHT[kind] * min(1.0, 2.2 * contrast) ** 1.5
        else:
            obj.weight = _KIND_WEIGHT[kind]
        obj.weight *= (r / 60.0) ** 0.5
        scene.objects.append(obj)
    _apply_occlusion(scene)
    return scene


def _apply_occlusion(scene: Scene, step: float = 4.0) -> None:
    """Scale each object's saliency by the fraction of it that stays visible: objects drawn
    later cover earlier ones, and what nobody can see attracts no fixations."""
    yy = (np.arange(0, H, step) + step / 2)[:, None]
    xx = (np.arange(0, W, step) + step / 2)[None, :]
    owner = np.full((len(yy), xx.shape[1]), -1)
    masks = []
    for k, o in enumerate(scene.objects):
        m = _footprint(o, yy - o.cy, xx - o.cx) <= 0
        owner[m] = k
        masks.append(m)
    for k, (o, m) in enumerate(zip(scene.objects, masks, strict=True)):
        area = m.sum()
        o.weight *= float((owner == k).sum() / area) if area else 0.0


def _footprint(o: Obj, dy, dx):
    """Signed distance to the object's outline (negative inside)."""
    if o.kind == "face":
        ry, rx = o.r * 1.15, o.r * 0.85
        return (np.sqrt((dy / ry) ** 2 + (dx / rx) ** 2) - 1) * min(ry, rx)
    if o.kind == "text":
        return np.maximum(np.abs(dy) - o.r * 0.75, np.abs(dx) - o.r * 1.25)
    if o.kind == "clutter":
        return np.maximum(np.abs(dy), np.abs(dx)) - o.r
    return _shape_dist(o.shape, dy, dx, o.r)


def _hue_rgb(h: float) -> np.ndarray:
    k = (np.array([5.0, 3.0, 1.0]) + h * 6.0) % 6.0
    return 1.0 - np.clip(np.minimum(k, 4.0 - k), 0, 1)


def _interp_matrix(t: np.ndarray, n: int) -> np.ndarray:
    """(len(t), n) linear-interpolation weights sampling n knots at t in [0, 1]."""
    x = np.clip(t * (n - 1), 0, n - 1 - 1e-9)
    x0 = x.astype(int)
    f = x - x0
    m = np.zeros((len(t), n))
    rows = np.arange(len(t))
    m[rows, x0] = 1 - f
    m[rows, np.minimum(x0 + 1, n - 1)] += f
    return m


def _bilinear(grid: np.ndarray, v: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Sample a small grid (``(..., gh, gw)``) at normalised rows v and columns u: bilinear
    interpolation is separable, so it is two small matrix products (einsum, not BLAS:
    BLAS threads in every worker process would oversubscribe the cores)."""
    ry = _interp_matrix(v, grid.shape[-2])
    cx = _interp_matrix(u, grid.shape[-1])
    tmp = np.einsum("...jk,lk->...jl", grid, cx)
    return np.einsum("ij,...jl->...il", ry, tmp)


def _background_at(scene: Scene, v: np.ndarray, u: np.ndarray) -> np.ndarray:
    """(3, len(v), len(u)) background colour at normalised rows v and columns u."""
    tex = sum(0.5 ** k * (_bilinear(g, v, u) - 0.5) for k, g in enumerate(scene.noise))
    tint = _bilinear(scene.tint, v, u) - 0.5
    ground = scene.base[:, None, None] * (1 + 0.5 * tex)[None] + 0.12 * tint
    sky_w = 1.0 / (1.0 + np.exp((v[:, None] - scene.horizon) * 40.0))  # soft horizon
    sky = scene.sky[:, None, None] * (1 + 0.15 * tex)[None]
    return np.clip(ground * (1 - sky_w) + sky * sky_w, 0, 1)


def render(scene: Scene, out_h: int, out_w: int, supersample: int = 1) -> np.ndarray:
    """The scene as an (out_h, out_w, 3) uint8 image (of the 480x640 frame)."""
    sh, sw = out_h * supersample, out_w * supersample
    v = (np.arange(sh) + 0.5) / sh
    u = (np.arange(sw) + 0.5) / sw
    img = _background_at(scene, v, u)
    yy = (v * H)[:, None]
    xx = (u * W)[None, :]
    px = H / sh  # one rendered pixel, in frame pixels: soft edges one pixel wide
    textures = iter(scene.clutter)
    for o in scene.objects:
        _draw(img, o, yy, xx, px, next(textures) if o.kind == "clutter" else None)
    img = np.clip(img, 0, 1).transpose(1, 2, 0)
    if supersample > 1:
        img = img.reshape(out_h, supersample, out_w, supersample, 3).mean(axis=(1, 3))
    return np.round(img * 255).astype(np.uint8)


def _paint(img: np.ndarray, alpha: np.ndarray, color) -> None:
    a = alpha[None]
    img *= 1 - a
    img += a * np.asarray(color, dtype=float)[:, None, None]


def _soft(d: np.ndarray, px: float) -> np.ndarray:
    """Coverage from a signed distance (negative inside)."""
    return np.clip(0.5 - d / px, 0, 1)


def _shape_dist(shape: str, dy: np.ndarray, dx: np.ndarray, r: float) -> np.ndarray:
    if shape == "disc":
        return np.sqrt(dy**2 + dx**2) - r
    if shape == "square":
        s = r * 0.85
        return np.maximum(np.abs(dy), np.abs(dx)) - s
    # triangle, pointing up
    return np.maximum(np.abs(dx) * 0.866 + dy * 0.5, -dy) - r * 0.5


def _draw(img, o: Obj, yy, xx, px, texture=None) -> None:
    dy = yy - o.cy
    dx = xx - o.cx
    outline = _soft(_footprint(o, dy, dx), px)  # the same outline occlusion is judged by
    if o.kind == "clutter":  # fine texture: a 12x12 noise grid over the patch, thresholded
        v = np.clip((yy[:, 0] - (o.cy - o.r)) / (2 * o.r), 0, 1)
        u = np.clip((xx[0, :] - (o.cx - o.r)) / (2 * o.r), 0, 1)
        t = np.clip((_bilinear(texture, v, u) - 0.5) * 6 + 0.5, 0, 1)
        _paint(img, outline * t, o.color)
        _paint(img, outline * (1 - t), np.clip(o.color * 2.2, 0, 1))
    elif o.kind in ("shape", "distractor"):
        _paint(img, outline, o.color)
    elif o.kind == "face":
        _paint(img, outline, o.color)
        dark = o.color * 0.18
        for ex in (-0.38, 0.38):
            _paint(img, _soft(np.sqrt((dy + 0.25 * o.r) ** 2 + (dx - ex * o.r) ** 2)
                              - 0.14 * o.r, px), dark)
        mouth = np.sqrt(((dy - 0.45 * o.r) / 0.09) ** 2 + (dx / 0.32) ** 2) - o.r
        _paint(img, _soft(mouth * 0.09, px), dark)
    else:  # text: light patch with rows of dark dashes
        hh, hw = o.r * 0.75, o.r * 1.25
        _paint(img, outline, o.color)
        pitch = hh / 2.2
        row = np.abs(((dy + hh) % pitch) - pitch / 2) - pitch * 0.18
        col = np.abs(((dx + hw) % (pitch * 1.7)) - pitch * 0.85) - pitch * 0.6
        inside = np.maximum(np.abs(dy) - hh * 0.8, np.abs(dx) - hw * 0.88)
        _paint(img, _soft(np.maximum(np.maximum(row, col), inside), px), o.color * 0.12)


# ---- saliency ----------------------------------------------------------------------------


def density(scene: Scene, out_h: int, out_w: int) -> np.ndarray:
    """The ground-truth fixation density on an (out_h, out_w) grid over the frame (sums
    to 1): object blobs + centre bias + uniform floor."""
    yy = ((np.arange(out_h) + 0.5) / out_h * H)[:, None]
    xx = ((np.arange(out_w) + 0.5) / out_w * W)[None, :]
    d = np.zeros((out_h, out_w))
    for o in scene.objects:
        s = 0.55 * o.r
        blob = np.exp(-0.5 * (((yy - o.cy) / s) ** 2 + ((xx - o.cx) / s) ** 2))
        d += o.weight * blob / blob.sum()
    total_w = sum(o.weight for o in scene.objects)
    obj_mass = 1.0 - CENTER_MASS - FLOOR_MASS
    d *= obj_mass * min(1.0, total_w / 2.5) / max(total_w, 1e-12)
    center = np.exp(-0.5 * (((yy - H / 2) / (0.2 * H)) ** 2 + ((xx - W / 2) / (0.2 * W)) ** 2))
    d += CENTER_MASS * center / center.sum()
    d += FLOOR_MASS / (out_h * out_w)
    return d / d.sum()


def sample_fixations(scene: Scene, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """~50 observers x a few fixations, drawn from the density (4x4-pixel cells, uniform
    within a cell); returns int32 (row, col) and observer ids."""
    cells = density(scene, H // 4, W // 4).ravel()
    cdf = np.cumsum(cells)
    per = 1 + rng.poisson(5, N_OBSERVERS)
    n = int(per.sum())
    idx = np.minimum(np.searchsorted(cdf, rng.random(n) * cdf[-1]), cells.size - 1)
    r = (idx // (W // 4)) * 4 + rng.integers(0, 4, n)
    c = (idx % (W // 4)) * 4 + rng.integers(0, 4, n)
    subject = np.repeat(np.arange(N_OBSERVERS), per)
    return np.stack([r, c], 1).astype(np.int32), subject.astype(np.int32)


def target_map(fix: np.ndarray) -> np.ndarray:
    """SALICON-style 48x48 target: the fixations blurred with sigma = 19 px."""
    return fixation_target(fix, (H, W))


# ---- the dataset -------------------------------------------------------------------------


def generate_item(seed: int, split: str, index: int):
    scene = make_scene(seed, split, index)
    rng = _rng(seed, split, index + 10_000_000)  # the observers' own stream
    fix, subj = sample_fixations(scene, rng)
    x = render(scene, 96, 96, supersample=2).transpose(2, 0, 1)
    dens = density(scene, 48, 48)
    return x, target_map(fix), fix, subj, (dens / dens.max()).astype(np.float32)


def generate_split(config: SynthConfig, split: str, progress=None) -> Split:
    """Generate one split in this process (``progress()`` is called per image)."""
    n = config.n_train if split == "train" else config.n_val
    items = []
    for i in range(n):
        items.append(generate_item(config.seed, split, i))
        if progress:
            progress()
    return assemble_split(config, split, items)


def assemble_split(config: SynthConfig, split: str, items: list) -> Split:
    """Stack generated items (in index order) into a :class:`Split`; the train split gets
    mirrored copies appended, as the study's 20,000-item train split has."""
    n = len(items)
    xs, ys, fixes, subjs, dens = (list(t) for t in zip(*items, strict=True)) if n else ([],) * 5
    inputs = np.stack(xs) if n else np.zeros((0, 3, 96, 96), np.uint8)
    targets = np.stack(ys) if n else np.zeros((0, 48, 48), np.float32)
    density_maps = np.stack(dens) if n else np.zeros((0, 48, 48), np.float32)
    return Split.from_lists(
        "synth", split, inputs=inputs, targets=targets, sizes=[(H, W)] * n,
        file_names=[f"synth_{split}_{i:06d}.png" for i in range(n)], fixations=fixes,
        subjects=subjs, mirror=split == "train", extras={"density": density_maps},
        meta={"generator": GENERATOR_VERSION, "seed": config.seed, "n_base": n},
        image_loader=original_loader(config.seed, split, n),
    )


def original_loader(seed: int, split: str, n_base: int):
    """Render original image ``i`` (480x640x3 uint8) on demand, mirrored copies too."""

    def load(i: int) -> np.ndarray:
        base = i % n_base if n_base else i
        img = render(make_scene(seed, split, base), H, W)
        return img[:, ::-1].copy() if n_base and i >= n_base else img

    return load
