"""How long a failed push waits before its next attempt, and the settings the push reads."""

from datetime import timedelta

from approvals.services.push import (
    backoff,
    max_attempts,
    requeue_after,
    retry_base_seconds,
    retry_max_seconds,
    stale_after,
)


def test_retries_back_off_exponentially_with_jitter_under_a_ceiling(settings):
    settings.PUSH_RETRY_BASE_SECONDS, settings.PUSH_RETRY_MAX_SECONDS = 10, 300
    for _ in range(50):
        assert 5 <= backoff(1) <= 10 and 5 <= backoff(0) <= 10  # the base, less up to half
        assert 10 <= backoff(2) <= 20 and 20 <= backoff(3) <= 40
        assert 150 <= backoff(10) <= 300  # the ceiling, less up to half
        assert backoff(1, at_least=30) == 30  # Alegra asked to wait longer
        assert backoff(1, at_least=1000) == 300
    assert len({backoff(3) for _ in range(20)}) > 1  # pushes that failed together spread out
    settings.PUSH_RETRY_BASE_SECONDS = "0.1"
    assert 0.05 <= backoff(1) <= 0.1  # no floor unless Alegra asks for one


def test_the_push_reads_its_limits_from_the_settings(settings):
    settings.PUSH_MAX_ATTEMPTS, settings.PUSH_RETRY_BASE_SECONDS, settings.PUSH_RETRY_MAX_SECONDS = 5, "2", "90"
    settings.PUSH_STALE_AFTER_SECONDS, settings.PUSH_REQUEUE_AFTER_SECONDS = 42, 7
    assert (max_attempts(), retry_base_seconds(), retry_max_seconds()) == (5, 2.0, 90.0)
    assert isinstance(retry_base_seconds(), float) and isinstance(retry_max_seconds(), float)
    assert (stale_after(), requeue_after()) == (timedelta(seconds=42), timedelta(seconds=7))
