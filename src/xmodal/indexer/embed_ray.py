"""The embed stage on a Ray cluster (`xmodal index --ray [ADDRESS]`): one encoder per worker actor,
results streamed back to the single writer in batches.

This process keeps planning and committing. It cuts the plan's new items into chunks of `batch_size`,
keeps two chunks per actor in flight (one encoding, one queued, so a worker never waits for the
driver) and yields each chunk's results as it comes back, in any order: the commit stage matches them
by task number. Workers decode from the same paths, so every node must see the files at the same
place (a shared mount). A worker that dies is restarted by Ray and the chunk it held is run again
(`max_restarts`, `max_task_retries`): a dead worker costs a retry, not the job; a chunk that keeps
killing its worker fails the job, and re-running it resumes (commits are crash-safe as with any runner).
Hashing for the plan stays in this process: the plan's choice among duplicates follows input order.

Ray is an optional extra (`pip install 'xmodal[ray]'`): imported only when a job asks for it.
"""

from __future__ import annotations

from functools import partial
from itertools import islice
from typing import Any, Callable, Iterable, Iterator

from xmodal.encoders import Encoder
from xmodal.errors import Unavailable
from xmodal.indexer.embed import Embedded, EmbedRunner, EmbedTask, InlineRunner
from xmodal.modalities import Limits

RETRIES = 3  # restarts of a dead worker, and re-runs of the chunk it held


class EmbedWorker:
    """A Ray actor: loads its own encoder once, then embeds chunks of tasks like the inline runner."""

    def __init__(self, make_encoder: Callable[[], Encoder], limits: Limits, batch_size: int) -> None:
        self.runner = InlineRunner(make_encoder(), limits, batch_size)

    def embed(self, tasks: list[EmbedTask]) -> list[Embedded]:
        return [result for batch in self.runner.embed(tasks) for result in batch]


class RayRunner(EmbedRunner):
    def __init__(
        self,
        make_encoder: Callable[[], Encoder],
        limits: Limits,
        batch_size: int,
        address: str | None = None,
        workers: int = 0,
    ) -> None:
        """`make_encoder` runs on each worker (pickled there: a module-level function or class);
        `address` as `ray.init` takes it (None: Ray's own choice); `workers` 0: one per GPU of the
        cluster, else one per two CPUs (at most one per GPU, or per CPU)."""
        ray = require_ray()
        self.batch_size = batch_size
        self._started = not ray.is_initialized()
        if self._started:
            try:
                ray.init(address=address, log_to_driver=False, include_dashboard=False)
            except ConnectionError as error:
                raise Unavailable(f"cannot reach the Ray cluster at {address}: {error}") from None
        resources = ray.cluster_resources()
        gpus, cpus = int(resources.get("GPU", 0)), max(1, int(resources.get("CPU", 1)))
        # No more workers than the cluster can place (one left pending would hold its chunks forever);
        # on CPUs each gets an equal share, which Ray hands to torch as its thread count.
        count = min(workers or gpus or max(1, cpus // 2), gpus or cpus)
        actor = ray.remote(EmbedWorker).options(
            num_cpus=1 if gpus else cpus // count,
            num_gpus=1 if gpus else 0,
            max_restarts=RETRIES,
            max_task_retries=RETRIES,
        )
        self.actors = [actor.remote(make_encoder, limits, batch_size) for _ in range(count)]

    def embed(self, tasks: Iterable[EmbedTask]) -> Iterator[list[Embedded]]:
        from ray.util import ActorPool

        pool = ActorPool(self.actors * 2)  # each actor twice: one chunk encoding, the next one waiting
        tasks = iter(tasks)
        while chunk := list(islice(tasks, self.batch_size)):
            while not pool.has_free():
                yield pool.get_next_unordered()
            pool.submit(_embed_on, chunk)
        while pool.has_next():
            yield pool.get_next_unordered()

    def close(self) -> None:
        ray = require_ray()
        for actor in self.actors:
            ray.kill(actor)
        self.actors = []
        if self._started:
            ray.shutdown()


def _embed_on(actor: Any, chunk: list[EmbedTask]) -> Any:
    return actor.embed.remote(chunk)


def load_on_worker(spec: str, device: str, batch_size: int) -> Encoder:
    """What a worker runs to get its encoder: the job's model by name, on the worker's own device."""
    from xmodal.device import pick_device
    from xmodal.encoders import load_model

    return load_model(spec, pick_device(device), batch_size)


def ray_runner(spec: str, settings: Any, image_input_side: int | None = None) -> RayRunner:
    """The runner for `settings.ray` ('default' or an address), each worker loading model `spec`."""
    address = None if settings.ray == "default" else settings.ray
    make_encoder = partial(load_on_worker, spec, settings.device, settings.batch_size)
    limits = Limits.for_indexing(settings, image_input_side)
    return RayRunner(make_encoder, limits, settings.batch_size, address, settings.ray_workers)


def require_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise Unavailable("--ray needs Ray: pip install 'xmodal[ray]'") from None
    return ray
