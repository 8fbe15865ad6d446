"""Progress on stderr: rich bars on a terminal, plain log lines otherwise (CI logs, pipes).

``progress_bar`` is for any long loop; ``TrainProgress`` shows a training run's epoch,
step, loss, images/s and ETA (one line per epoch when stderr is not a terminal).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
PLAIN_EVERY_S = 10.0  # plain mode: at most one line per this many seconds (and at the end)


def enabled() -> bool:
    return sys.stderr.isatty()


def _console():
    from rich.console import Console

    return Console(stderr=True)


@contextmanager
def progress_bar(description: str, total: int | None, show: bool = True):
    """Yield ``advance(n=1)``: a bar on a terminal, a line every few seconds otherwise
    (nothing at all when ``show`` is False)."""
    if not show:
        yield lambda n=1: None
        return
    if not enabled():
        state = {"done": 0, "last": time.monotonic(), "t0": time.monotonic()}

        def advance(n=1):
            state["done"] += n
            now = time.monotonic()
            if now - state["last"] >= PLAIN_EVERY_S:
                state["last"] = now
                of = f"/{total}" if total else ""
                print(f"salbench: {description}: {state['done']}{of} "
                      f"({now - state['t0']:.0f} s)", file=sys.stderr, flush=True)

        yield advance
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    # descriptions are plain text: rich would drop "[judd_jitter=0]" of a variant's name
    with Progress(TextColumn("{task.description}", markup=False), BarColumn(),
                  MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=_console(),
                  transient=False) as prog:
        task = prog.add_task(description, total=total)
        yield lambda n=1: prog.advance(task, n)


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with progress_bar(description, total) as advance:
        for item in items:
            yield item
            advance()


WARMUP_STEPS = 3  # steps left out of the rate: compilation, then CUDA graphs' recording


class TrainProgress:
    """Epoch, step, last epoch's mean loss, images/s and ETA of a training run."""

    def __init__(self, name: str, epochs: int, steps: int, batch: int, start_epoch: int,
                 start_step: int, show: bool = True,
                 sync: Callable[[], None] | None = None) -> None:
        self.name = name
        self._sync = sync  # waits for an asynchronous device's queued work (CUDA)
        self.batch = batch
        self.epochs = epochs
        self.steps = steps
        self.epoch = start_epoch
        self.step_in_epoch = start_step
        self.start = (start_epoch, start_step)
        self.show = show
        self.steps_run = 0
        self.t_first: float | None = None  # end of the first step (compilation excluded)
        self.t_warm: float | None = None  # end of step WARMUP_STEPS (recording excluded too)
        self.t_now = time.perf_counter()
        self.loss = ""
        self._prog = None
        self._task = None
        self.tty = enabled()

    def __enter__(self) -> TrainProgress:
        if self.show and self.tty:
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self._prog = Progress(
                TextColumn("{task.description}", markup=False), BarColumn(),
                TextColumn("epoch {task.fields[epoch]}/{task.fields[epochs]} step "
                           "{task.fields[step]}/{task.fields[steps]}"),
                TextColumn("loss {task.fields[loss]}"), TextColumn("{task.fields[ips]}"),
                TimeRemainingColumn(), console=_console(), transient=False)
            self._prog.__enter__()
            done = self.start[0] * self.steps + self.start[1]
            self._task = self._prog.add_task(
                f"training {self.name}", total=self.epochs * self.steps, completed=done,
                epoch=self.start[0] + 1, epochs=self.epochs, step=self.start[1],
                steps=self.steps, loss="—", ips="")
        return self

    def __exit__(self, *exc) -> None:
        if self._prog is not None:
            self._prog.__exit__(*exc)

    def images_per_second(self) -> float:
        """Measured from the end of step ``WARMUP_STEPS`` once later steps have run (CUDA
        graphs record on the steps after the one that compiles: timed in, they made a
        1,000-epoch estimate on an H200 10:07 for a run of 8:03), else from the end of the
        first step (which includes any compilation)."""
        start = self._rate_start()
        if start is None:
            return 0.0
        return (self.steps_run - start[0]) * self.batch / (self.t_now - start[1])

    def timed_steps(self) -> int:
        """How many steps ``images_per_second`` is measured over."""
        start = self._rate_start()
        return 0 if start is None else self.steps_run - start[0]

    def _rate_start(self) -> tuple[int, float] | None:
        """(steps run, time) at the start of the rate's window; None before two steps."""
        if self.t_warm is not None and self.steps_run > WARMUP_STEPS and self.t_now > self.t_warm:
            return WARMUP_STEPS, self.t_warm
        if self.t_first is None or self.steps_run < 2 or self.t_now <= self.t_first:
            return None
        return 1, self.t_first

    def items_done(self, n: int) -> int:
        """Items of the schedule done: before this invocation, plus those since."""
        return self.start[0] * n + (self.start[1] + self.steps_run) * self.batch

    def synced(self) -> None:
        """Reads the clock once the device has run what was queued.  A CUDA step returns
        once its kernels are queued, so a rate timed on the host alone runs ahead of the
        GPU: 77,037 images/s at step 23 on an H100 for a run that went at 38,466."""
        if self._sync is not None:
            self._sync()
        self.t_now = time.perf_counter()

    def step(self) -> None:
        self.steps_run += 1
        self.step_in_epoch += 1
        if self.steps_run == WARMUP_STEPS:
            self.synced()  # the window opens once the warm-up's queued work is done
            self.t_warm = self.t_now
        else:
            self.t_now = time.perf_counter()
        if self.t_first is None:
            self.t_first = self.t_now
        if self._prog is not None:
            ips = self.images_per_second()
            self._prog.update(self._task, advance=1, step=self.step_in_epoch,
                              epoch=self.epoch + 1, ips=f"{ips:,.0f} img/s" if ips else "")

    def epoch_done(self, done: int, train_loss: float | None, val_loss: float | None) -> None:
        self.synced()
        self.epoch = done
        self.step_in_epoch = 0
        self.loss = "—" if train_loss is None else f"{train_loss:.5f}"
        if self._prog is not None:
            self._prog.update(self._task, loss=self.loss, epoch=min(done + 1, self.epochs),
                              step=0)
        elif self.show:
            val = "" if val_loss is None else f"  val {val_loss:.5f}"
            ips = self.images_per_second()
            rate = f"  {ips:,.0f} img/s" if ips else ""
            print(f"salbench: {self.name}: epoch {done}/{self.epochs}  train {self.loss}"
                  f"{val}{rate}", file=sys.stderr, flush=True)
