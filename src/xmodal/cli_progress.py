"""What `xmodal index` shows while it works: from its first moment, files counted as they are found,
then the model loading, then a bar with a total, a rate and the time left."""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING, Callable

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, SpinnerColumn, Task, TextColumn, TimeElapsedColumn
from rich.text import Text

if TYPE_CHECKING:
    from xmodal.indexer import JobProgress


class RateEstimate:
    """Items per second over the last `window` seconds, measured from when the work began.

    Work finishes in bursts (a batch of 32 embeddings lands at once), so a rate taken between the
    first completions, as rich's own is, reads thousands per second and a time left of zero. Until
    `settle` seconds have passed there is no estimate at all."""

    def __init__(self, window: float = 30.0, settle: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.window, self.settle, self.clock = window, settle, clock
        self.samples: deque[tuple[float, int]] = deque()

    def start(self, done: int = 0) -> None:
        self.samples.clear()
        self.samples.append((self.clock(), done))

    def update(self, done: int) -> None:
        now = self.clock()
        self.samples.append((now, done))
        while len(self.samples) > 2 and self.samples[1][0] <= now - self.window:
            self.samples.popleft()  # keep one sample at or before the window's start as its baseline

    @property
    def per_second(self) -> float | None:
        if not self.samples:
            return None
        (since, done_then), (_, done_now) = self.samples[0], self.samples[-1]
        elapsed = self.clock() - since  # to now: a pause between bursts lowers the rate as it should
        return (done_now - done_then) / elapsed if elapsed >= self.settle else None

    def seconds_left(self, remaining: int) -> float | None:
        rate = self.per_second
        return remaining / rate if rate else None


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        rate = task.fields.get("rate")
        return Text(f"{rate:.1f} items/s" if rate is not None else "")


class _LeftColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        left = task.fields.get("left")
        if left is None:
            return Text("")
        minutes, seconds = divmod(int(left + 0.5), 60)
        hours, minutes = divmod(minutes, 60)
        return Text(f"{hours}:{minutes:02d}:{seconds:02d} left" if hours else f"{minutes}:{seconds:02d} left")


class IndexProgress:
    """rich's Progress on stderr from the first moment of a job, gone when it ends; `show` takes each
    `JobProgress` the engine reports."""

    def __init__(self, console: Console, rate: RateEstimate | None = None) -> None:
        self.rate = rate or RateEstimate()
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[count]}"),
            _RateColumn(),
            TimeElapsedColumn(),
            _LeftColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,  # a log gets the summary only, not frames or a stray blank line
        )
        self.task = self.progress.add_task("starting", total=None, count="", rate=None, left=None)
        self.stage = "starting"  # until the engine reports its first stage

    def __enter__(self) -> "IndexProgress":
        self.progress.start()
        self.progress.refresh()
        return self

    def __exit__(self, *_: object) -> None:
        self.progress.stop()

    def show(self, job: JobProgress) -> None:
        begun = job.stage != self.stage
        if begun:
            self._begin(job)
        if job.stage == "scanning":
            self.progress.update(self.task, count=f"{job.found} files found")
        elif job.stage == "indexing" and job.total is not None:
            self.rate.update(job.processed)
            self.progress.update(
                self.task,
                completed=job.processed,
                count=f"{job.processed}/{job.total}",
                rate=self.rate.per_second,
                left=self.rate.seconds_left(job.total - job.processed),
            )
        if begun:
            self.progress.refresh()  # each stage is drawn at once, so even a quick scan shows its count

    def _begin(self, job: JobProgress) -> None:
        self.stage = job.stage
        if job.stage == "scanning":
            self.progress.update(self.task, description="scanning")
        elif job.stage == "loading":
            self.progress.update(self.task, description="loading the model", count=f"{job.found} files found")
        elif job.stage == "indexing":
            self.rate.start(job.processed)
            self.progress.reset(
                self.task,
                description="indexing",
                total=job.total,
                completed=job.processed,
                count=f"{job.processed}/{job.total}",
                rate=None,
                left=None,
            )
