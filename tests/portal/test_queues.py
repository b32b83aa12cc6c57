"""Task queues: pushes, sync and events scale apart; the demo's single worker consumes them all."""

from __future__ import annotations

import sys

import pytest
from django.conf import settings

from portal.celery import app
from portal.management.commands.run_portal import worker_command


def queue_of(task_name: str) -> str:
    route = app.amqp.router.route({}, task_name, args=(), kwargs={})
    return route["queue"].name


@pytest.mark.parametrize("task,queue", [
    ("approvals.tasks.push_change", "pushes"),
    ("approvals.tasks.sweep_pushes", "pushes"),
    ("invoices.tasks.refresh_invoice", "sync"),
    ("invoices.tasks.sync_company", "sync"),
    ("invoices.tasks.sync_recent_all", "sync"),
    ("invoices.tasks.ensure_webhooks_all", "sync"),
    ("api.tasks.deliver_event", "events"),
    ("audit.tasks.verify_all", "default"),
    ("approvals.tasks.remind_pending_requests", "default"),
    ("operations.tasks.heartbeat", "default"),
])
def test_each_task_goes_to_its_queue(task, queue):
    assert queue_of(task) == queue


def test_an_explicit_queue_still_wins_over_the_route():
    """Tests and deployments may give pushes a queue of their own (approvals.push: PUSH_QUEUE)."""
    route = app.amqp.router.route({"queue": "test-pushes"}, "approvals.tasks.push_change", args=(), kwargs={})
    assert route["queue"].name == "test-pushes"


def test_every_registered_task_and_beat_entry_lands_on_a_known_queue():
    app.loader.import_default_modules()
    names = {name for name in app.tasks if not name.startswith("celery.")}
    names |= {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {queue_of(name) for name in names} <= set(settings.TASK_QUEUES)


def test_the_demo_worker_consumes_every_queue_and_runs_the_scheduler():
    command = worker_command(sys.executable)
    queues = command[command.index("-Q") + 1].split(",")
    assert sorted(queues) == sorted(settings.TASK_QUEUES) == ["default", "events", "pushes", "sync"]
    assert "-B" in command
