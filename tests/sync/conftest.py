"""A sandbox account and the portal company connected to it, over the in-process HTTP transport."""

from dataclasses import dataclass

import httpx
import pytest

from alegra_sandbox import testing
from invoices.alegra import AlegraClient
from invoices.ratelimit import MemoryStore, RateLimiter
from tests.factories import make_company
from tests.clock import FakeClock


@pytest.fixture
def clock():
    """Fake time shared by the client, its limiter and the sandbox's budget: waits cost nothing."""
    with testing.frozen_clock() as advance:
        fake = FakeClock()
        plain_sleep = fake.sleep

        def sleep(seconds: float) -> None:
            plain_sleep(seconds)
            advance(seconds)

        fake.sleep = sleep
        yield fake


@dataclass
class Connected:
    account: object
    company: object
    clock: FakeClock

    def client(self, transport: httpx.BaseTransport | None = None, **kwargs) -> AlegraClient:
        limiter = RateLimiter(MemoryStore(), 150, clock=self.clock, sleep=self.clock.sleep)
        return AlegraClient.for_company(
            self.company, http=httpx.Client(transport=transport or testing.SandboxTransport()),
            limiter=limiter, sleep=self.clock.sleep, **kwargs)


def connect(clock, *, invoices: int = 0, seed: int = 1, rate_limit: int = 100_000, **account_kwargs) -> Connected:
    account = testing.make_account(invoices=invoices, seed=seed, rate_limit_per_minute=rate_limit, **account_kwargs)
    company = make_company(name=account.name, api_email=account.email, token=account.token,
                           base_url=testing.BASE_URL)
    return Connected(account, company, clock)


@pytest.fixture
def connected(db, clock):
    return connect(clock, invoices=90)
