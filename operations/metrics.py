"""The Prometheus exposition of /metrics, computed when scraped.

Gauges come from the database (one truth for any number of processes); the count of
Alegra's 429 answers comes from the shared counter store of `portal.counters`.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from audit.models import SYSTEM_CHAIN
from portal.counters import alegra_rate_limited

from . import queries


class PortalCollector:
    def collect(self):
        pushes = GaugeMetricFamily("enmienda_pushes", "Pushes to Alegra by state.", labels=["state"])
        for state, count in queries.push_counts().items():
            pushes.add_metric([state], count)
        yield pushes

        yield GaugeMetricFamily("enmienda_push_oldest_pending_seconds",
                                "Age of the oldest push still queued, pushing or waiting to retry (0 if none).",
                                value=queries.oldest_pending_push_age())

        yield CounterMetricFamily("enmienda_alegra_rate_limited", "Requests Alegra refused with 429.",
                                  value=alegra_rate_limited.value())

        lag = GaugeMetricFamily("enmienda_sync_lag_seconds",
                                "Seconds since the company's last successful sync (since it was added, if never).",
                                labels=["company"])
        for age in queries.sync_ages():
            lag.add_metric([str(age.company_id)], age.age_seconds)
        yield lag

        verified_ok = GaugeMetricFamily("enmienda_audit_chain_ok",
                                        "1 if the chain's last verification found it intact, else 0.",
                                        labels=["chain"])
        verified_at = GaugeMetricFamily("enmienda_audit_chain_verified_timestamp_seconds",
                                        "When the chain was last verified (Unix time).", labels=["chain"])
        for verification in queries.latest_verifications():
            chain = "system" if verification.chain == SYSTEM_CHAIN else str(verification.chain)
            verified_ok.add_metric([chain], 1 if verification.ok else 0)
            verified_at.add_metric([chain], verification.at.timestamp())
        yield verified_ok
        yield verified_at

        age = queries.heartbeat_age()
        yield GaugeMetricFamily("enmienda_scheduler_heartbeat_age_seconds",
                                "Seconds since the scheduler's last heartbeat (NaN if none yet).",
                                value=float("nan") if age is None else age)


def exposition() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PortalCollector())
    return generate_latest(registry)
