"""Index jobs over HTTP: server-side paths under the allowed roots, indexed one job at a time in a
background thread, with progress to poll."""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi import Path as PathParam
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from xmodal.api.limits import json_body
from xmodal.api.schemas import ErrorResponse, JobRequest, JobResponse
from xmodal.api.security import require_api_key
from xmodal.config import Settings
from xmodal.engine import Engine
from xmodal.errors import XmodalError, validation_message
from xmodal.indexer import JobProgress, JobSummary, Source

log = logging.getLogger("xmodal.api.jobs")
router = APIRouter(tags=["jobs"], dependencies=[Depends(require_api_key)])
JobId = Annotated[str, PathParam(pattern=r"^[0-9a-f]{1,32}$", description="a job's id")]
ERRORS = {code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 422)}
KEPT_JOBS = 100
SHUTDOWN_GRACE = 10.0  # seconds a stopping server waits for a running job to reach its next item
SHOWN_FAILURES = 20


class JobCancelled(Exception):
    pass


@dataclass
class Job:
    id: str
    paths: list[Path]
    status: str = "queued"
    total: int | None = None
    processed: int = 0
    error: str | None = None
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    summary: JobSummary | None = None  # live while the job runs
    cancel: threading.Event = field(default_factory=threading.Event)

    def view(self) -> JobResponse:
        summary = self.summary
        return JobResponse(
            id=self.id,
            status=self.status,
            paths=[str(path) for path in self.paths],
            total=self.total,
            processed=self.processed,  # type: ignore[arg-type]
            indexed=summary.indexed if summary else 0,
            unchanged=summary.unchanged if summary else 0,
            failed=summary.failed if summary else 0,
            failures=_notes(summary.failures if summary else []),
            skipped=_notes(summary.skipped if summary else []),
            error=self.error,
            created=self.created,
            started=self.started,
            finished=self.finished,
        )


def _notes(notes: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"where": where, "reason": reason} for where, reason in notes[:SHOWN_FAILURES]]


class JobRunner:
    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.roots = [Path(root).resolve() for root in settings.allowed_roots]
        self.jobs: dict[str, Job] = {}
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None  # started by the first job

    def submit(self, raw_paths: list[str]) -> Job:
        job = Job(uuid.uuid4().hex[:16], [self.allowed_path(raw) for raw in raw_paths])
        self._forget_old()
        self.jobs[job.id] = job
        if self._worker is None:
            # A daemon: a job stuck in a read (a network mount) must not keep a stopping server alive.
            self._worker = threading.Thread(target=self._work, name="xmodal-job", daemon=True)
            self._worker.start()
        self._queue.put(job)
        return job

    def allowed_path(self, raw: str) -> Path:
        """The resolved path, if it lies under an allowed root (checked before existence, which stays private)."""
        if not self.roots:
            raise HTTPException(
                403, "no allowed roots are configured (XMODAL_ALLOWED_ROOTS): this server indexes nothing over HTTP"
            )
        if "\x00" in raw or not Path(raw).is_absolute():
            raise HTTPException(422, f"{raw!r}: give an absolute path on the server")
        try:
            resolved = Path(raw).resolve()
            if not self.inside_roots(resolved):
                raise HTTPException(403, f"{raw} is outside the allowed roots ({', '.join(map(str, self.roots))})")
            if not resolved.exists():
                raise HTTPException(404, f"{raw}: no such file or directory on the server")
        except OSError as error:  # a name too long
            raise HTTPException(422, f"{raw!r}: {error.strerror or error}") from None
        except RuntimeError:  # Path.resolve on a loop of links (Python < 3.13)
            raise HTTPException(422, f"{raw!r}: a loop of symbolic links") from None
        return resolved

    def inside_roots(self, path: Path) -> bool:
        return any(path == root or path.is_relative_to(root) for root in self.roots)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for job in list(self.jobs.values()):
            counts[job.status] = counts.get(job.status, 0) + 1
        return counts

    def shutdown(self, grace: float | None = None) -> None:
        """Cancel every job (a running one stops at its next item) and wait at most `grace` seconds;
        a job still running then dies with the process, and the OS drops its writer lock."""
        for job in list(self.jobs.values()):
            job.cancel.set()
            if job.status == "queued":  # it will not start (and a stuck job may hold the queue forever)
                job.status, job.finished = "cancelled", time.time()
        if self._worker is None:
            return
        self._queue.put(None)
        waited = SHUTDOWN_GRACE if grace is None else grace
        self._worker.join(waited)
        if self._worker.is_alive():
            log.warning("an index job did not stop within %s s of shutdown: left to end with the process", waited)

    def _work(self) -> None:
        while (job := self._queue.get()) is not None:
            self._run(job)

    def _run(self, job: Job) -> None:
        if job.cancel.is_set():
            job.status, job.finished = "cancelled", job.finished or time.time()
            return
        job.status, job.started = "running", time.time()
        try:
            # Decode inline: forking decoder processes out of a multi-threaded server risks children
            # that inherit a lock some other thread held at the fork.
            self.engine.index(
                job.paths, on_progress=lambda progress: self._progress(job, progress), admit=self._admit, workers=0
            )
            job.status = "done"
        except JobCancelled:
            job.status = "cancelled"
        except XmodalError as error:  # another writer holds the store, ...
            job.status, job.error = "failed", str(error)
        except Exception as error:  # noqa: BLE001 - a job's failure is reported, not raised into the server
            log.exception("job %s failed", job.id)
            job.status, job.error = "failed", f"{type(error).__name__}: {error}"
        finally:
            job.finished = time.time()
        log.info(
            "job %s %s",
            job.id,
            job.status,
            extra={"fields": {"event": "job", **job.view().model_dump(exclude={"failures"})}},
        )

    def _progress(self, job: Job, progress: JobProgress) -> None:
        job.total, job.processed, job.summary = progress.total, progress.processed, progress.summary
        if job.cancel.is_set():
            raise JobCancelled()

    def _admit(self, source: Source) -> str | None:
        """Links and manifest entries may point anywhere: what resolves outside the roots is refused."""
        if source.path is not None and not self.inside_roots(Path(source.path).resolve()):
            return "outside the allowed roots: not indexed"
        return None

    def _forget_old(self) -> None:
        finished = [job for job in self.jobs.values() if job.finished is not None]
        for job in finished[: max(0, len(self.jobs) - KEPT_JOBS + 1)]:
            del self.jobs[job.id]


def _runner(request: Request) -> JobRunner:
    return request.app.state.jobs


@router.post(
    "/jobs",
    status_code=202,
    response_model=JobResponse,
    responses={**ERRORS, 413: {"model": ErrorResponse}, 415: {"model": ErrorResponse}},
    summary="Index server-side paths (API key)",
    openapi_extra={
        "requestBody": {
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobRequest"}}},
            "required": True,
        }
    },
)
async def start_job(request: Request, response: Response) -> JobResponse:
    try:
        body = JobRequest.model_validate_json(await json_body(request))  # after the key was checked
    except ValidationError as error:
        raise HTTPException(422, validation_message(error.errors())) from None
    job = await run_in_threadpool(_runner(request).submit, body.paths)
    response.headers["Location"] = f"/jobs/{job.id}"
    return job.view()


@router.get("/jobs", response_model=list[JobResponse], responses=ERRORS, summary="This server's recent jobs (API key)")
def list_jobs(request: Request) -> list[JobResponse]:
    return [job.view() for job in _runner(request).jobs.values()]


@router.get("/jobs/{job_id}", response_model=JobResponse, responses=ERRORS, summary="A job's progress (API key)")
def get_job(job_id: JobId, request: Request) -> JobResponse:
    job = _runner(request).jobs.get(job_id)
    if job is None:
        raise HTTPException(404, f"no job {job_id} (jobs are kept in memory until the server stops)")
    return job.view()
