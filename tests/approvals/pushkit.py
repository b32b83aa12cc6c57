"""Shared pieces of the decision and push tests: a company on the sandbox, invoices, requests."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
import pytest

from alegra_sandbox import services as sandbox
from alegra_sandbox.models import SandboxRequestLog
from alegra_sandbox.testing import SandboxTransport, make_account
from approvals.services import push as push_module
from approvals.services.decisions import request_decide
from approvals.services.submission import request_submitted
from approvals.services.requests import request_save_and_submit
from invoices.alegra import AlegraClient
from invoices.models import Invoice
from invoices.ratelimit import MemoryStore, RateLimiter
from invoices import mirror
from invoices.models import Tax
from invoices.sync import contact_store, invoice_store
from tests.clock import FakeClock
from tests.factories import make_company, make_user


def sandbox_company(account=None, *, base_url: str = "http://testserver/sandbox/api/v1", **kwargs):
    account = account or make_account()
    company = make_company(api_email=account.email, token=account.token, base_url=base_url, **kwargs)
    with alegra_client(company) as client:
        mirror_catalogue(company, client)
    return account, company


def mirror_catalogue(company, client, contacts: int = 2) -> None:
    """The taxes and the first clients, enough for the rules (a full catalogue sync is slow)."""
    for document in client.list_taxes():
        body = mirror.canonical(document)
        Tax.objects.create(company=company, alegra_id=str(document["id"]), id_sort=mirror.id_sort_key(str(document["id"])),
                           document=body, content_hash=mirror.content_hash(body), **mirror.tax_columns(body))
    for number in range(1, contacts + 1):
        contact_store(company=company, document=client.get_contact(str(number)), source="sync")




def fresh_limiter() -> RateLimiter:
    clock = FakeClock()
    return RateLimiter(MemoryStore(), 10_000, clock=clock, sleep=clock.sleep)


def later(client: AlegraClient, seconds: float) -> None:
    """A worker takes a retry that much later: a pause the client's rate limit keeps has passed."""
    if isinstance(getattr(client.limiter, "clock", None), FakeClock):
        client.limiter.clock.sleep(seconds)


def alegra_client(company, *, http: httpx.Client | None = None) -> AlegraClient:
    http = http or httpx.Client(transport=SandboxTransport())
    return AlegraClient.for_company(company, http=http, max_attempts=1, max_wait=10.0,
                                    limiter=fresh_limiter(), sleep=lambda seconds: None)


def first_client_id(account) -> str:
    return sandbox.catalogue_list(account, "contact", {"limit": "1"})[0]["id"]


def sandbox_invoice(account, **overrides) -> dict:
    body = {
        "date": "2025-03-10", "dueDate": "2025-04-09", "client": first_client_id(account),
        "observations": "", "items": [
            {"id": 1, "price": "1000", "quantity": "2", "tax": [{"id": "3"}]},
            {"id": 2, "price": "500", "quantity": "1", "discount": "10", "tax": []},
        ],
    }
    body.update(overrides)
    return sandbox.invoice_create(account, body)


def mirrored_invoice(company, account, **overrides) -> Invoice:
    document = sandbox.invoice_get(account, sandbox_invoice(account, **overrides)["id"])
    invoice_store(company=company, document=_as_read(document), source="sync")
    return Invoice.objects.get(company=company, alegra_id=str(document["id"]))


def _as_read(document: dict) -> dict:
    """The body as the portal's client reads it (numbers as Decimal, like any API answer)."""
    import json

    from invoices.alegra import loads

    return loads(json.dumps(document))


def proposal(invoice: Invoice, **changes) -> dict:
    document = dict(invoice.document)
    document.update(changes)
    return document


def submit(invoice: Invoice, user, *, reason: str = "Corrige la observación", kind: str = "update",
           proposed: dict | None = None, **changes):
    """A pending request, routed as a submission is (whether or not submit routes by itself)."""
    proposed = proposed if proposed is not None else proposal(invoice, **changes)
    change_request = request_save_and_submit(invoice=invoice, user=user, proposed=proposed, reason=reason,
                                             kind=kind)
    request_submitted(change_request=change_request)
    change_request.refresh_from_db()
    return change_request


def writes_to(account, path_suffix: str, method: str = "PUT") -> int:
    """Successful writes the sandbox answered on paths ending with `path_suffix`."""
    return SandboxRequestLog.objects.filter(account=account, method=method, status__in=[200, 201],
                                            path__endswith=path_suffix).count()


def invoice_puts(account, alegra_id: str) -> int:
    return writes_to(account, f"/invoices/{alegra_id}")


# --- fixtures (imported by the test modules that use them) ---------------------------------


@pytest.fixture
def world(db):
    """A company on a fresh sandbox account, its people, and one open invoice mirrored."""
    account, company = sandbox_company()
    return SimpleNamespace(
        account=account, company=company,
        accountant=make_user("ana", company, "accountant"),
        approver=make_user("pedro", company, "approver"),
        approver2=make_user("lucia", company, "approver"),
        manager=make_user("maria", company, "manager"),
        invoice=mirrored_invoice(company, account),
    )


@pytest.fixture
def sandbox_pushes(in_process_http, settings):
    """Pushes run by tasks (eagerly) reach the in-process sandbox (the HTTP transport is the edge).

    Each client gets a budget of its own: the sandbox enforces Alegra's limit, and the tests
    that are about the limit share a budget explicitly.
    """
    settings.ALEGRA_RATE_LIMIT_STORE = "memory://"
    yield


class ScriptedTransport(httpx.BaseTransport):
    """The in-process sandbox behind a script of canned answers (what a proxy or Alegra's edge
    would say without the sandbox seeing the request), keeping a log of every request."""

    def __init__(self, inner: httpx.BaseTransport | None = None):
        self.inner = inner or SandboxTransport()
        self.requests: list[tuple[str, str, bytes]] = []
        self.script: list[list] = []

    def answer(self, method: str, path_suffix: str, status: int, body: dict | None = None, *,
               headers: dict | None = None, times: int = 1) -> None:
        self.script.append([method, path_suffix, status, body, headers or {}, times])

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.method, request.url.path, request.read()))
        for rule in self.script:
            method, suffix, status, body, headers, times = rule
            if times and request.method == method and request.url.path.rstrip("/").endswith(suffix):
                rule[5] -= 1
                return httpx.Response(status, json=body if body is not None else {}, headers=headers,
                                      request=request)
        return self.inner.handle_request(request)

    def sent(self, method: str, path_suffix: str) -> list[bytes]:
        return [body for m, path, body in self.requests if m == method and path.rstrip("/").endswith(path_suffix)]


@pytest.fixture
def approve(django_capture_on_commit_callbacks):
    """Approve without running the queued task: the test runs the push itself."""

    def run(change_request, *users):
        for user in users:
            with django_capture_on_commit_callbacks(execute=False):
                request_decide(change_request=change_request, user=user, outcome="approve")
        change_request.refresh_from_db()
        return change_request.pushes.order_by("-id").first()

    return run


@pytest.fixture
def run_push(django_capture_on_commit_callbacks):
    """What a worker does with one push: attempts until it stops asking for a retry."""

    def run(push, client, *, rounds: int = 30):
        outcomes, after = [], None
        for _ in range(rounds):
            with django_capture_on_commit_callbacks(execute=True):
                outcome = push_module.push_run(push_id=push.pk, after_attempt=after, client=client)
            outcomes.append(outcome)
            if outcome.retry_in is None:
                break
            after = outcome.attempt
            later(client, outcome.retry_in)
        push.refresh_from_db()
        return outcomes

    return run
