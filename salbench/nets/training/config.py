"""The training recipe as plain data (no torch): what a model card's ``[train]`` table
may set, the learning-rate schedule, and what a finished or stopped run reports."""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, field, fields

from ...errors import UserError, is_whole
from ...loss_spec import check_loss
from ...suggest import did_you_mean

OPTIMIZERS = ("sgd", "adam")
AMP_MODES = ("auto", "bf16", "off")
GRAPHS = "reduce-overhead"  # torch.compile's mode that replays CUDA graphs
COMPILE_MODES = ("auto", "on", "off", GRAPHS)
# where a training setting comes from, for the error that refuses one
TRAIN_HINT = "give another value (the command's option, the card's [train] or TrainConfig)"


@dataclass
class TrainConfig:
    """The study's recipe by default (design §5.2).

    ``epochs`` is the length of the schedule: the learning rate at epoch ``e`` is
    ``linspace(lr_start, lr_end, epochs)[e]``.  ``stop_after`` stops the run after that
    many epochs *of this schedule* (a checkpoint is written; a later run with a larger
    ``stop_after``, or none, continues it).
    """

    loss: str = "mse"
    optimizer: str = "sgd"  # "sgd" (the study's: Nesterov momentum) or "adam"
    epochs: int = 1000
    batch_size: int = 128
    lr_start: float = 0.03
    lr_end: float = 0.0001
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    val_every: int = 5
    log_every_steps: int = 5
    checkpoint_every: int = 50
    keep_checkpoints: int = 2  # whole-epoch checkpoints kept (0: all)
    seed: int = 0
    device: str = "auto"
    amp: str = "auto"  # "auto": bf16 autocast on CUDA when supported; "bf16"; "off"
    # "auto": torch.compile on CUDA; "on"; "off"; "reduce-overhead": compiled and replayed
    # as CUDA graphs (CUDA only; cuts the CPU's kernel launches)
    compile: str = "auto"
    deterministic_cuda: bool = True  # cuDNN's deterministic algorithms (exact resume)
    stop_after: int | None = None
    loss_weights: dict = field(default_factory=dict)  # combined losses (salbench.losses)
    adversarial_weight: float = 0.0  # > 0: SalGAN-style training (needs a discriminator)
    discriminator_lr: float = 1e-4  # the discriminator's Adam learning rate

    def __post_init__(self) -> None:
        def need(cond: bool, what: str) -> None:
            if not cond:
                raise UserError(f"training setting {what}", hint=TRAIN_HINT)

        # types first (a card's TOML or a Python caller may give 1.5, "0.9" or true): the
        # range checks below would raise a TypeError or let a truncation through
        for name in _WHOLE:
            v = getattr(self, name)
            if v is None and name == "stop_after":
                continue
            need(is_whole(v), f"{name} must be a whole number, got {v!r}")
            setattr(self, name, int(v))  # numpy integers as Python ints (JSON, checkpoints)
        for name in _REAL:
            v = getattr(self, name)
            need(_real(v), f"{name} must be a finite number, got {v!r}")
            if type(v) not in (int, float):
                setattr(self, name, float(v))
        for name in ("nesterov", "deterministic_cuda"):
            need(isinstance(getattr(self, name), bool),
                 f"{name} must be true or false, got {getattr(self, name)!r}")
        need(isinstance(self.device, str), f"device must be a string, got {self.device!r}")
        need(self.lr_start > 0, f"lr_start must be positive, got {self.lr_start}")
        need(self.lr_end >= 0, f"lr_end must be >= 0, got {self.lr_end}")
        need(0 <= self.momentum < 1, f"momentum must be in [0, 1), got {self.momentum}")
        need(self.weight_decay >= 0, f"weight_decay must be >= 0, got {self.weight_decay}")
        need(self.keep_checkpoints >= 0,
             f"keep_checkpoints must be >= 0 (0 keeps every one), got {self.keep_checkpoints}")
        need(self.epochs >= 1, f"epochs must be at least 1, got {self.epochs}")
        need(self.batch_size >= 1, f"batch_size must be at least 1, got {self.batch_size}")
        need(self.checkpoint_every >= 1,
             f"checkpoint_every must be at least 1, got {self.checkpoint_every}")
        need(self.val_every >= 1, f"val_every must be at least 1, got {self.val_every}")
        need(self.log_every_steps >= 1,
             f"log_every_steps must be at least 1, got {self.log_every_steps}")
        need(self.stop_after is None or self.stop_after >= 1,
             f"stop_after must be at least 1, got {self.stop_after}")
        need(self.optimizer in OPTIMIZERS,
             f"optimizer {self.optimizer!r} is unknown; choose {' or '.join(OPTIMIZERS)}")
        need(self.amp in AMP_MODES, f"amp {self.amp!r} is unknown; choose {AMP_MODES}")
        need(self.compile in COMPILE_MODES,
             f"compile {self.compile!r} is unknown; choose {COMPILE_MODES}")
        need(0 <= self.seed < 2**63, f"seed must be in [0, 2**63), got {self.seed}")
        need(self.adversarial_weight >= 0,
             f"adversarial_weight must be >= 0, got {self.adversarial_weight}")
        need(self.discriminator_lr > 0,
             f"discriminator_lr must be positive, got {self.discriminator_lr}")
        try:
            self.loss_weights = check_loss(self.loss, self.loss_weights)
        except ValueError as exc:
            raise UserError(f"training setting {exc}", hint=TRAIN_HINT) from None

    def lr(self, epoch: int) -> float:
        """``linspace(lr_start, lr_end, epochs)[epoch]``."""
        if self.epochs == 1:
            return self.lr_start
        return self.lr_start + epoch * (self.lr_end - self.lr_start) / (self.epochs - 1)

    @property
    def last_epoch(self) -> int:
        """Where this invocation stops: ``stop_after`` or the end of the schedule."""
        return min(self.epochs, self.stop_after or self.epochs)

    def schedule(self) -> dict:
        """The settings that define a run: resuming under others would splice two runs."""
        d = asdict(self)
        return {k: d[k] for k in SCHEDULE_FIELDS}

    @classmethod
    def from_card(cls, train: dict, source: str = "model card", **overrides) -> TrainConfig:
        """The config of a card's ``[train]`` table (unknown keys refused), with
        ``overrides`` (None values ignored) on top."""
        check_keys(train, source)
        cfg = dict(train)
        cfg.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**cfg)


_WHOLE = ("epochs", "batch_size", "val_every", "log_every_steps", "checkpoint_every",
          "keep_checkpoints", "seed", "stop_after")
_REAL = ("lr_start", "lr_end", "momentum", "weight_decay", "adversarial_weight",
         "discriminator_lr")


def _real(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool) \
        and math.isfinite(v)


# what makes two runs the same run; device and precision are checked separately
SCHEDULE_FIELDS = ("loss", "optimizer", "epochs", "batch_size", "lr_start", "lr_end",
                   "momentum", "nesterov", "weight_decay", "seed", "loss_weights",
                   "adversarial_weight", "discriminator_lr")
# card [train] keys that are not TrainConfig fields
CARD_ONLY = ("fit",)


def check_keys(train: dict, source: str) -> None:
    known = [f.name for f in fields(TrainConfig)]
    for k in train:
        if k not in known and k not in CARD_ONLY:
            raise UserError(f"unknown key {k!r} in [train]{did_you_mean(k, known)}", source,
                            f"known keys: {', '.join(known)}")


@dataclass
class TrainResult:
    epochs_run: int
    resumed_from: int | None
    final_train_loss: float | None
    final_val_loss: float | None
    seconds: float
    images_per_second: float
    checkpoint: str
    device: str
    log: str
    epochs_done: int = 0  # epochs of the schedule completed so far
    schedule_epochs: int = 0
    interrupted: bool = False
    processes: int = 1  # training processes (torchrun's world size)
    ddp: bool = False  # trained through DistributedDataParallel
    history: list[dict] = field(default_factory=list)

    def summary(self) -> dict:
        """What a result file records about the training (no per-epoch history)."""
        return {k: v for k, v in asdict(self).items() if k != "history"}
