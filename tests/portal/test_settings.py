"""Settings come from the environment; a bad value stops start-up naming the variable."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

ROOT = settings.BASE_DIR


def _check(env_overrides: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env.update(env_overrides)
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name,value", [
    ("DEBUG", "maybe"),
    ("ALEGRA_TIMEOUT_SECONDS", "ten"),
    ("ALEGRA_RATE_LIMIT_PER_MINUTE", "0"),
    ("DATABASE_URL", "mysql://x@y/z"),
    ("CELERY_BROKER_URL", "carrier-pigeon://nest"),
    ("ALEGRA_BASE_URL", "ftp://alegra"),
    ("PUSH_STALE_AFTER_SECONDS", "5"),
    ("PUSH_REQUEUE_AFTER_SECONDS", "soon"),
])
def test_bad_value_stops_startup_naming_the_variable(name, value):
    result = _check({name: value})
    assert result.returncode != 0
    assert name in result.stderr


def test_production_requires_a_secret_key():
    result = _check({"DEBUG": "false", "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_embedded_defaults_start():
    result = _check({})
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_this_run_uses_the_database_the_environment_names():
    url = os.environ.get("DATABASE_URL", "")
    engine = settings.DATABASES["default"]["ENGINE"]
    if url.startswith("postgres"):
        assert engine == "django.db.backends.postgresql"
    else:
        assert engine == "django.db.backends.sqlite3"
    broker = os.environ.get("CELERY_BROKER_URL", "filesystem://")
    assert settings.CELERY_BROKER_URL == broker


def test_kept_database_connections_are_checked_before_each_request_uses_them():
    code = ("from django.conf import settings as s; d = s.DATABASES['default']; "
            "print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DB_CONN_MAX_AGE"}}
    shown = {}
    for max_age in ("60", "0"):
        env.update(DATABASE_URL="postgres://enmienda@db.example:5432/enmienda", DB_CONN_MAX_AGE=max_age,
                   DJANGO_SETTINGS_MODULE="portal.settings")
        result = subprocess.run([sys.executable, "-c", "import django; django.setup(); " + code], cwd=ROOT,
                                env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        shown[max_age] = result.stdout.split()
    assert shown == {"60": ["60", "True"], "0": ["0", "False"]}


def test_a_test_run_has_a_filesystem_broker_of_its_own():
    """Tasks a demo or a bench left in the project's broker folder never reach a test's worker."""
    from pathlib import Path

    if not settings.CELERY_BROKER_URL.startswith("filesystem"):
        pytest.skip("this run's broker is a server")
    folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
    assert folder.is_dir()
    assert not folder.resolve().is_relative_to(Path(settings.VAR_DIR).resolve())
    assert folder.parent == Path(os.environ["CELERY_BROKER_DIR"])


def test_celery_delivery_settings_protect_against_lost_tasks():
    from portal.celery import app

    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.broker_transport_options["visibility_timeout"] >= 3600


def test_the_sweepers_thresholds_come_from_the_environment():
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env.update({"PUSH_STALE_AFTER_SECONDS": "120", "PUSH_REQUEUE_AFTER_SECONDS": "900"})
    code = ("import django; django.setup(); from approvals.services import push; "
            "print(push.stale_after().total_seconds(), push.requeue_after().total_seconds())")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings"},
                            capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["120.0", "900.0"], result.stderr


def test_this_run_is_configured_as_a_test_run():
    """The variables the root conftest sets reached the settings (read when they were loaded)."""
    assert settings.TESTING is True
    assert settings.SYNC_READ_AHEAD is False  # the sandbox answers on the test's own thread
    assert not str(settings.AUDIT_ANCHOR_DIR).startswith(str(settings.BASE_DIR))


def test_a_run_without_test_workers_is_configured_as_a_test_run_too():
    """pytest-django sets Django up before the root conftest is read when the settings are named
    in pyproject.toml; with test workers the variables reached them anyway (inherited), without
    them the run mirrored with reading ahead on and its syncs failed."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"ENMIENDA_TESTING", "DJANGO_SETTINGS_MODULE", "AUDIT_ANCHOR_DIR", "PYTEST_XDIST_WORKER",
                        "PYTEST_XDIST_WORKER_COUNT", "PYTEST_CURRENT_TEST"}}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:randomly",
         "tests/portal/test_settings.py::test_this_run_is_configured_as_a_test_run"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
