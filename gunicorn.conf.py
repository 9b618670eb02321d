"""gunicorn settings; each can be overridden on the command line or by the environment."""

import multiprocessing
import os
import tempfile
from urllib.parse import urlsplit

# Workers count metrics into files here, summed at /metrics (prometheus_client's multiprocess
# mode); set before anything imports prometheus_client. Unset, a new empty folder each start,
# so counts of an earlier run's workers are not added to this one's (a folder given by the
# operator, e.g. shared with the scheduler, is emptied by whoever starts them).
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="fieldenforce-metrics-")

from server.gunicorn_errors import install as _json_errors  # noqa: E402

bind = os.environ.get("BIND", "127.0.0.1:5000")
# Requests gunicorn refuses itself (request line or headers too long, unparsable) are answered
# in the API's JSON error body, not an HTML page.
_json_errors()


def _default_workers() -> int:
    """The cores and one, or twice the cores and one on a PostgreSQL on another machine.

    On SQLite (the default when DATABASE_URL is unset) a push is CPU work in the worker until
    its one writer commits: more processes than cores only take turns on them, and the one
    holding the writer lock waits for the CPU among them. A PostgreSQL on this machine takes
    its share of the same cores (on two cores, five workers pushed no more than three and
    their p99 under bursts was a quarter higher: they shared the CPU instead of taking turns).
    A request to a PostgreSQL elsewhere also waits on the network and that server, which more
    workers fill."""
    cores = multiprocessing.cpu_count()
    url = urlsplit(os.environ.get("DATABASE_URL", "sqlite://"))
    if url.scheme.startswith("postgresql") and (url.hostname or "localhost") not in _LOCAL:
        return cores * 2 + 1
    return cores + 1


_LOCAL = {"localhost", "127.0.0.1", "::1"}  # and no host at all: a Unix socket here


workers = int(os.environ.get("WEB_CONCURRENCY") or _default_workers())
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
accesslog = "-"
errorlog = "-"
# The scheduler never runs inside web workers; it is its own process (flask scheduler run).
raw_env = ["SCHEDULER_ENABLED=0"]


def post_worker_init(worker: object) -> None:
    """Leave what the app holds for life (mappers, schemas, compiled statements) out of the
    garbage collector's full passes: one over all of it took some 60 ms, inside whichever
    request met it, sometimes with SQLite's writer lock held and others queued behind it.

    A push allocates objects by the hundred thousand, nearly all freed by reference count
    when it ends; at the default threshold (700) the collector ran some eight passes per
    100-op push, 1.4 ms of it. At 7,000 it runs about once in six pushes (0.45 ms a push),
    and a worker holds at most a few thousand more objects between passes."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(7000, 20, 20)


def child_exit(server: object, worker: object) -> None:
    """A worker that exited keeps its counters (they are totals) but not its gauges."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]


# Access lines as JSON, with the request id the app gave the request (X-Request-ID).
access_log_format = (
    '{"time": "%(t)s", "request_id": "%({x-request-id}o)s", "remote": "%(h)s", '
    '"method": "%(m)s", "path": "%(U)s", "status": %(s)s, "bytes": "%(B)s", '
    '"duration_us": %(D)s}'
)
