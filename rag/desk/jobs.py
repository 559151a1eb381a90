"""Background jobs, run one at a time in submission order (never interleaved), each
with a stage and a progress fraction the page shows as a bar."""

from __future__ import annotations

import logging
import queue
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from rag.desk.errors import DeskBusyError
from rag.errors import RagError

log = logging.getLogger(__name__)

JobKind = Literal["add-file", "add-url", "replace", "edit", "remove"]
JobStatus = Literal["queued", "running", "done", "failed"]
# Where each stage starts and ends on the progress bar.
STAGES: dict[str, tuple[float, float]] = {
    "queued": (0.0, 0.0), "reading": (0.0, 0.2), "chunking": (0.2, 0.25),
    "embedding": (0.25, 0.9), "indexing": (0.9, 1.0), "done": (1.0, 1.0),
}


@dataclass
class Job:
    """One desk operation. `subject` names what it works on (file name, URL, document
    id); `result` (done) or `error` (failed) says how it ended, naming the file."""

    id: str
    kind: JobKind
    subject: str
    editor: str
    status: JobStatus = "queued"
    stage: str = "queued"
    progress: float = 0.0
    result: str | None = None
    error: str | None = None
    doc_id: str | None = None
    content_hash: str | None = None
    created: float = field(default_factory=time.time)
    finished: float | None = None

    def advance(self, stage: str, done: int = 0, total: int = 1) -> None:
        """Enter `stage` (one of `STAGES`), `done` of `total` through it."""
        low, high = STAGES[stage]
        self.stage = stage
        self.progress = round(max(self.progress, low + (high - low) * done / max(total, 1)), 3)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


Work = Callable[[Job], str]  # does the job, returns its result line; raises on failure


def new_job(kind: JobKind, subject: str, editor: str) -> Job:
    return Job(id=secrets.token_hex(8), kind=kind, subject=subject, editor=editor)


class JobQueue:
    """A FIFO of jobs and one worker thread. Finished jobs are remembered (the newest
    `kept`) for the page to show."""

    def __init__(self, kept: int = 200, size: int = 100) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._todo: queue.Queue[tuple[Job, Work] | None] = queue.Queue(maxsize=size)
        self._lock = threading.Lock()
        self._kept = kept
        self._worker: threading.Thread | None = None

    def submit(self, job: Job, work: Work) -> Job:
        """Queue `job`; raises `DeskBusyError` when the queue is full."""
        with self._lock:
            if self._worker is None:
                self._worker = threading.Thread(target=self._loop, name="desk-jobs",
                                                daemon=True)
                self._worker.start()
            try:
                self._todo.put_nowait((job, work))
            except queue.Full as exc:
                raise DeskBusyError("too many jobs are waiting; try again when some have "
                                    "finished") from exc
            self._remember(job)
        return job

    def run_now(self, job: Job, work: Work) -> Job:
        """Run `job` in this thread (the CLI); it ends done or failed."""
        with self._lock:
            self._remember(job)
        _run(job, work)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def snapshot(self) -> list[dict[str, Any]]:
        """Every remembered job as JSON, newest first."""
        with self._lock:
            return [j.to_json() for j in reversed(self._jobs.values())]

    def wait(self, job: Job, timeout: float) -> bool:
        """Wait until `job` has finished; False on timeout (tests, the CLI)."""
        deadline = time.monotonic() + timeout
        while job.status in ("queued", "running"):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def stop(self) -> None:
        if self._worker is not None:
            self._todo.put(None)

    def _remember(self, job: Job) -> None:
        self._jobs[job.id] = job
        while len(self._jobs) > self._kept:
            oldest = next(iter(self._jobs.values()))
            if oldest.status in ("queued", "running"):
                break
            self._jobs.popitem(last=False)

    def _loop(self) -> None:
        while (item := self._todo.get()) is not None:
            _run(*item)


def _run(job: Job, work: Work) -> None:
    job.status = "running"
    try:
        job.result = work(job)
        job.advance("done")
        job.status = "done"
    except RagError as exc:
        job.error, job.status = str(exc), "failed"
    except Exception as exc:  # a bug must not kill the worker; the job says what happened
        log.exception("desk job %s failed", job.id)
        job.error, job.status = f"{job.subject}: internal error ({type(exc).__name__}: {exc})", \
            "failed"
    finally:
        job.finished = time.time()
