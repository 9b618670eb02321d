"""gunicorn settings; each can be overridden on the command line or by the environment."""

import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:5000")
workers = int(os.environ.get("WEB_CONCURRENCY", str(multiprocessing.cpu_count() * 2 + 1)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
accesslog = "-"
errorlog = "-"
# The scheduler never runs inside web workers; it is its own process (flask scheduler run).
raw_env = ["SCHEDULER_ENABLED=0"]
