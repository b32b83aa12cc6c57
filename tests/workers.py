"""A real Celery worker process for the tests that kill one: started, SIGKILLed, restarted.

It consumes the queue it is given from the broker the environment names (Redis on CI, the
server-less filesystem broker by default) and reads the test's own database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings as django_settings
from django.db import connection


class Worker:
    def __init__(self, queue: str, log_dir: Path, env: dict[str, str] | None = None):
        self.queue, self.log_dir, self.env = queue, log_dir, env or {}
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.approvals.worker_settings",
               "ENMIENDA_WORKER_DB_NAME": str(connection.settings_dict["NAME"]), **self.env}
        log = open(self.log_dir / f"worker-{self.starts}.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=solo", "--concurrency=1",
             "-Q", self.queue, "-n", f"{self.queue}-{self.starts}@%h", "--without-gossip", "--without-mingle",
             "--without-heartbeat", "--loglevel=INFO"],
            cwd=django_settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no acknowledgement, no clean-up."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.log_dir.glob("worker-*.log")))


@contextmanager
def worker_on_own_queue(settings, setting: str, log_dir: Path, env: dict[str, str] | None = None) -> Iterator[Worker]:
    """A worker on a queue of its own, named in `setting` (PUSH_QUEUE, EVENTS_QUEUE) for the test;
    Celery's eager mode is off while it runs, and the queue is emptied afterwards."""
    from portal.celery import app

    queue = f"test-{setting.lower().replace('_', '-')}-{uuid.uuid4().hex[:10]}"
    setattr(settings, setting, queue)
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    worker = Worker(queue, log_dir, env=env)
    try:
        yield worker
    finally:
        worker.stop()
        app.conf.task_always_eager = eager
        with app.connection_for_write() as conn:  # leave nothing behind on a shared broker
            try:
                conn.default_channel.queue_purge(queue)
            except Exception:  # the queue never existed: nothing to purge
                pass
