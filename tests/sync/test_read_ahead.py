"""A full sync that requests the next page while it stores the current one ends in the same mirror."""

import httpx
import pytest

from alegra_sandbox import testing
from invoices import sync
from invoices.models import Invoice
from tests.sync.conftest import connect
from tests.sync.helpers import mirror_state, sandbox_state

# The sandbox answers the reading thread on a connection of its own: its data must be committed.
pytestmark = pytest.mark.django_db(transaction=True)


class FailingPage:
    """Alegra answering 400 to the third page request."""

    def __init__(self):
        self.inner, self.pages = testing.SandboxTransport(), 0

    def handle_request(self, request):
        if request.url.path.endswith("/invoices"):
            self.pages += 1
            if self.pages == 3:
                return httpx.Response(400, json={"code": 1, "message": "petición inválida"})
        return self.inner.handle_request(request)


def test_reading_ahead_mirrors_the_same_invoices_with_the_same_requests(clock, settings):
    settings.SYNC_READ_AHEAD = True
    link = connect(clock, invoices=250)
    client = link.client()
    run = sync.sync_full(company=link.company, client=client)
    assert run.state == "succeeded", run.last_error
    assert run.invoices_created == 250 and run.pages_done == run.pages_total == 9
    assert run.requests_made == client.requests_made == 9
    assert mirror_state(link.company) == sandbox_state(link.account)


def test_an_error_reading_ahead_fails_the_run_where_that_page_stood(clock, settings):
    settings.SYNC_READ_AHEAD = True
    link = connect(clock, invoices=250)
    run = sync.sync_full(company=link.company, client=link.client(FailingPage()))
    assert run.state == "failed" and "400" in run.last_error
    # The two pages read before the error are stored and recorded, so a resumed run starts after them.
    assert run.pages_done == 2 and run.next_start == 60
    assert Invoice.objects.filter(company=link.company).count() == 60
    settings.SYNC_READ_AHEAD = False
    again = sync.sync_full(company=link.company, client=link.client())
    assert again.state == "succeeded" and mirror_state(link.company) == sandbox_state(link.account)
