"""The Alegra client against canned answers (real recordings where there are some).

Only the edges are fake: the HTTP transport (httpx.MockTransport) and the clock.
The rate limiter, retry loop and parsing are the real ones.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings

from invoices.alegra import AlegraClient, AlegraError, dumps
from invoices.documents.numbers import parse_decimal
from invoices.documents.references import alegra_id, full_number, number_template
from invoices.ratelimit import MemoryStore, RateLimiter
from tests.clock import FakeClock

BASE = "https://api.alegra.example/api/v1"


def money(value):
    """How the mirror reads an amount of a body that may not have come through the client."""
    return parse_decimal(value, allow_float=True)

EMAIL = "api@empresa.example"
TOKEN = "s3cr3t-t0ken-4f9a"
BASIC = base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()

SHARED_FIXTURES = Path(settings.BASE_DIR).parent / "shared" / "alegra-fixtures"
LOCAL_FIXTURES = Path(__file__).parent / "data"


def fixture_text(name: str) -> str:
    for folder in (SHARED_FIXTURES, LOCAL_FIXTURES):
        if (folder / name).exists():
            return (folder / name).read_text(encoding="utf-8")
    pytest.skip(f"fixture {name} is in neither {SHARED_FIXTURES} nor {LOCAL_FIXTURES}")


def cassette(name: str) -> dict:
    """The first interaction of a converted VCR recording: {request, response}."""
    return json.loads(fixture_text(name))[0]




def answer(body: Any = None, status: int = 200, *, raw: str | None = None,
           headers: dict[str, str] | None = None) -> httpx.Response:
    # Alegra labels JSON as text/html; the client must not care.
    text = raw if raw is not None else ("" if body is None else dumps(body))
    return httpx.Response(status, text=text,
                          headers={"Content-Type": "text/html; charset=UTF-8", **(headers or {})})


class FakeAlegra:
    """Serves queued answers (or a function of the request) and records what it got."""

    def __init__(self, clock: FakeClock, *answers: Any, route: Callable[[httpx.Request], Any] | None = None):
        self.clock = clock
        self.queue = list(answers)
        self.route = route
        self.requests: list[httpx.Request] = []
        self.times: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.times.append(self.clock.now)
        item = self.route(request) if self.route else self.queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    @property
    def params(self) -> list[dict[str, str]]:
        return [dict(r.url.params) for r in self.requests]


def make_client(fake: FakeAlegra, *, per_minute: int = 150, limiter: RateLimiter | None = None,
                **kw: Any) -> AlegraClient:
    clock = fake.clock
    limiter = limiter or RateLimiter(MemoryStore(), per_minute, clock=clock, sleep=clock.sleep)
    return AlegraClient(BASE, EMAIL, TOKEN, http=httpx.Client(transport=httpx.MockTransport(fake)),
                        limiter=limiter, sleep=clock.sleep, **kw)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# --- request shape -------------------------------------------------------------


def test_sends_basic_auth_json_headers_and_an_explicit_timeout(clock):
    fake = FakeAlegra(clock, answer({"id": "1"}))
    make_client(fake).get_invoice(1)
    request = fake.requests[0]
    assert request.url == httpx.URL(BASE + "/invoices/1")
    assert request.headers["Authorization"] == f"Basic {BASIC}"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Content-Type"] == "application/json"
    assert request.extensions["timeout"]["read"] == settings.ALEGRA_TIMEOUT_SECONDS
    assert TOKEN not in str(request.url)


def test_for_company_uses_the_company_credential(company, clock):
    fake = FakeAlegra(clock, answer({"id": "1"}))
    client = AlegraClient.for_company(
        company, http=httpx.Client(transport=httpx.MockTransport(fake)),
        limiter=RateLimiter(MemoryStore(), 150, clock=clock, sleep=clock.sleep), sleep=clock.sleep)
    client.get_company()
    expected = base64.b64encode(f"{company.api_email}:{company.token}".encode()).decode()
    assert fake.requests[0].headers["Authorization"] == f"Basic {expected}"
    assert str(fake.requests[0].url).startswith(company.base_url + "/company")


def test_put_sends_decimals_as_exact_json_numbers(clock):
    fake = FakeAlegra(clock, answer({"id": "1", "observations": "x"}))
    body = {"items": [{"id": 101, "price": Decimal("16746.218487"), "quantity": Decimal("1.00"),
                       "tax": [{"id": "3"}]}], "observations": "Corrección de precio"}
    result = make_client(fake).put_invoice("1", body)
    sent = fake.requests[0]
    assert sent.method == "PUT"
    assert b'"price":16746.218487' in sent.content
    assert json.loads(sent.content, parse_float=Decimal)["items"][0]["price"] == Decimal("16746.218487")
    assert "Corrección" in sent.content.decode()
    assert result == {"id": "1", "observations": "x"}


def test_ids_become_one_path_segment(clock):
    fake = FakeAlegra(clock, answer({"id": "7"}), answer({"id": "a/b"}))
    client = make_client(fake)
    client.get_contact(7)
    client.get_item(" a/b ")
    assert fake.requests[0].url.path.endswith("/contacts/7")
    assert fake.requests[1].url.raw_path.endswith(b"/items/a%2Fb")


# --- parsing ---------------------------------------------------------------------


def test_recorded_list_is_a_bare_array_labelled_text_html(clock):
    recorded = cassette("recorded-list_of_invoices.json")
    response = recorded["response"]
    fake = FakeAlegra(clock, answer(response["body"], response["status"], headers=response["headers"]))
    invoices = make_client(fake).list_invoices()
    assert [alegra_id(i["id"]) for i in invoices] == ["3", "2", "1"]
    assert len(fake.requests) == 1  # three docs < one page: no second request
    assert clock.sleeps == []  # Remaining 149, Reset -2: nothing to wait for


def test_huge_amount_is_parsed_exactly_and_ids_are_strings(clock):
    fake = FakeAlegra(clock, answer(raw=fixture_text("alegracli-GET_invoices.json")))
    first, second = make_client(fake).list_invoices()
    assert second["total"] == Decimal("1234567890123456.78")
    assert money(second["total"]) == money(second["balance"]) == Decimal("1234567890123456.78")
    assert [alegra_id(first["id"]), alegra_id(second["id"])] == ["1", "2"]
    assert [alegra_id(first["client"]), alegra_id(second["client"]["id"])] == ["12", "14"]
    assert money(first["totalPaid"]) == 0
    assert money(first["items"][0]["price"]) == Decimal("16746.218487")
    assert full_number(first) == "FE341"


LIST_SHAPES = {
    "bare array": lambda docs: docs,
    "metadata + data": lambda docs: {"metadata": {"total": len(docs)}, "data": docs},
    "metadata total as text": lambda docs: {"metadata": {"total": str(len(docs))}, "data": docs},
    "total + results": lambda docs: {"total": str(len(docs)), "results": docs},
}


@pytest.mark.parametrize("shape", LIST_SHAPES)
def test_every_documented_list_shape(clock, shape):
    taxes = json.loads(fixture_text("loduis-get.taxes.json"))
    fake = FakeAlegra(clock, answer(LIST_SHAPES[shape](taxes)))
    result = make_client(fake).list_taxes()
    assert [alegra_id(t["id"]) for t in result] == ["1", "2", "3", "4", "5", "6"]
    assert money(result[2]["percentage"]) == Decimal("16.00")
    assert len(fake.requests) == 1


def test_success_with_code_and_message_shape_is_not_an_error(clock):
    recorded = cassette("recorded-send_email_invoice_response.json")
    fake = FakeAlegra(clock, answer(recorded["response"]["body"], headers=recorded["response"]["headers"]))
    body = make_client(fake).request("POST", "/invoices/1/email", body=recorded["request"]["body"])
    assert body == {"code": "200", "message": "La factura fue enviada exitosamente"}


def test_empty_2xx_body_is_none(clock):
    fake = FakeAlegra(clock, httpx.Response(204))
    assert make_client(fake).delete_webhook_subscription(9) is None


# --- pagination ------------------------------------------------------------------


def _paged_server(docs: list[dict], *, envelope: bool) -> Callable[[httpx.Request], httpx.Response]:
    def route(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params["start"])
        limit = int(request.url.params["limit"])
        assert limit <= 30, "the client must never ask for more than 30"
        page = docs[start:start + limit]
        return answer({"metadata": {"total": len(docs)}, "data": page} if envelope else page)
    return route


@pytest.mark.parametrize("envelope", [True, False], ids=["metadata", "bare"])
def test_pagination_walks_every_page(clock, envelope):
    docs = [{"id": str(n), "total": f"{n}.50"} for n in range(95)]
    fake = FakeAlegra(clock, route=_paged_server(docs, envelope=envelope))
    got = list(make_client(fake).iter_invoices(status="open"))
    assert [d["id"] for d in got] == [d["id"] for d in docs]
    assert [p["start"] for p in fake.params] == ["0", "30", "60", "90"]
    assert all(p["limit"] == "30" and p["metadata"] == "true" and p["status"] == "open" for p in fake.params)


def test_pagination_stops_at_total_without_an_extra_request(clock):
    docs = [{"id": str(n)} for n in range(60)]
    fake = FakeAlegra(clock, route=_paged_server(docs, envelope=True))
    pages = list(make_client(fake).iter_invoice_pages())
    assert [(p.start, p.total, len(p.items)) for p in pages] == [(0, 60, 30), (30, 60, 30)]
    assert len(fake.requests) == 2


def test_pagination_without_total_stops_at_an_empty_page(clock):
    docs = [{"id": str(n)} for n in range(30)]
    fake = FakeAlegra(clock, route=_paged_server(docs, envelope=False))
    assert len(list(make_client(fake).iter_invoices())) == 30
    assert [p["start"] for p in fake.params] == ["0", "30"]


def test_pagination_over_recorded_item_pages(clock):
    pages = {"0": fixture_text("alegracli-GET_items_start0.json"),
             "30": fixture_text("alegracli-GET_items_start30.json")}
    fake = FakeAlegra(clock, route=lambda r: answer(raw=pages[r.url.params["start"]]))
    items = list(make_client(fake).iter_items())
    assert len(items) == 32
    assert [alegra_id(i["id"]) for i in items[-2:]] == ["31", "32"]
    assert len(fake.requests) == 2  # the short second page ends it


def test_pages_clamp_the_limit_and_resume_from_an_offset(clock):
    docs = [{"id": str(n)} for n in range(100)]
    fake = FakeAlegra(clock, route=_paged_server(docs, envelope=True))
    pages = list(make_client(fake).iter_invoice_pages(start=60, limit=500, date_afterOrNow="2026-01-01"))
    assert [p["limit"] for p in fake.params] == ["30", "30"]
    assert [p["start"] for p in fake.params] == ["60", "90"]
    assert [(start, total) for start, total, _ in pages] == [(60, 100), (90, 100)]
    assert fake.params[0]["date_afterOrNow"] == "2026-01-01"


def test_a_server_ignoring_start_does_not_loop_forever(clock):
    docs = [{"id": str(n)} for n in range(30)]
    fake = FakeAlegra(clock, route=lambda r: answer(docs))
    with pytest.raises(AlegraError):
        list(make_client(fake).iter_contacts())
    assert len(fake.requests) == 2


# --- errors ----------------------------------------------------------------------


def test_401_is_permanent_and_not_retried(clock):
    fake = FakeAlegra(clock, answer({"code": 401, "message": "Debe autenticarse para continuar"}, 401))
    with pytest.raises(AlegraError) as info:
        make_client(fake).get_invoice("1")
    error = info.value
    assert (error.status, error.code, error.permanent, error.transient) == (401, "401", True, False)
    assert error.message == "Debe autenticarse para continuar"
    assert len(fake.requests) == 1


def test_400_carries_alegra_code_and_spanish_message(clock):
    fake = FakeAlegra(clock, answer({"code": 3003, "message": "El cliente no existe o está inactivo"}, 400))
    with pytest.raises(AlegraError) as info:
        make_client(fake).put_invoice("1", {"client": "999"})
    assert info.value.code == "3003"
    assert info.value.message == "El cliente no existe o está inactivo"
    assert info.value.permanent
    assert "3003" in str(info.value) and "está inactivo" in str(info.value)


@pytest.mark.parametrize(("body", "code", "message"), [
    ({"code": 3003, "message": "Mensaje A"}, "3003", "Mensaje A"),
    ({"code": "9070", "message": "Mensaje B"}, "9070", "Mensaje B"),
    ({"error": "No se encontró la factura", "code": 404}, "404", "No se encontró la factura"),
    ({"error": {"code": 2001, "message": "Mensaje C"}}, "2001", "Mensaje C"),
    ({"message": "Mensaje D"}, None, "Mensaje D"),
])
def test_every_documented_error_shape(clock, body, code, message):
    fake = FakeAlegra(clock, answer(body, 404))
    with pytest.raises(AlegraError) as info:
        make_client(fake).get_invoice("1")
    assert (info.value.code, info.value.message, info.value.status) == (code, message, 404)


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 405, 406])
def test_4xx_is_permanent_and_never_retried(clock, status):
    fake = FakeAlegra(clock, *[answer({"message": "no"}, status)] * 5)
    with pytest.raises(AlegraError) as info:
        make_client(fake).get_invoice("1")
    assert info.value.permanent and not info.value.transient
    assert len(fake.requests) == 1
    assert clock.sleeps == []


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_transient_and_retried_with_growing_backoff_for_get(clock, status):
    fake = FakeAlegra(clock, answer({"message": "Error interno"}, status),
                      answer(raw="<html>Bad gateway</html>", status=status), answer({"id": "1"}))
    client = make_client(fake)
    assert client.get_invoice("1") == {"id": "1"}
    assert client.requests_made == 3
    assert len(clock.sleeps) == 2 and 0 < clock.sleeps[0] <= clock.sleeps[1]


def test_5xx_gives_up_after_max_attempts_as_transient(clock):
    fake = FakeAlegra(clock, *[answer(raw="<html><h1>502 Bad Gateway</h1></html>", status=502)] * 9)
    with pytest.raises(AlegraError) as info:
        make_client(fake, max_attempts=4).get_invoice("1")
    assert info.value.transient and info.value.status == 502
    assert "502 Bad Gateway" in info.value.message
    assert len(fake.requests) == 4


def test_put_is_retried_on_5xx(clock):
    fake = FakeAlegra(clock, answer({}, 503), answer({"id": "1"}))
    assert make_client(fake).put_invoice("1", {"observations": "x"}) == {"id": "1"}
    assert len(fake.requests) == 2


@pytest.mark.parametrize("exc", [httpx.ReadTimeout("timed out"), httpx.ConnectError("refused"),
                                 httpx.RemoteProtocolError("Server disconnected")])
def test_timeouts_and_connection_errors_are_transient_and_retried_for_get(clock, exc):
    fake = FakeAlegra(clock, exc, answer([{"id": "5"}]))
    assert make_client(fake).list_invoices() == [{"id": "5"}]
    assert len(fake.requests) == 2


def test_timeouts_give_up_as_transient_with_no_status(clock):
    fake = FakeAlegra(clock, *[httpx.ReadTimeout("timed out")] * 5)
    with pytest.raises(AlegraError) as info:
        make_client(fake).get_company()
    assert info.value.transient and info.value.status is None
    assert "timeout" in info.value.message
    assert len(fake.requests) == 5


@pytest.mark.parametrize("failure", [
    httpx.ReadTimeout("timed out"),
    httpx.RemoteProtocolError("Server disconnected without sending a response"),
    answer({"message": "Error interno"}, 500),
    answer({"message": "Servicio no disponible"}, 503),
    answer(raw="<html>ok?</html>", status=201),
], ids=["read timeout", "dropped connection", "500", "503", "non-json 201"])
def test_a_post_that_may_have_arrived_is_not_retried(clock, failure):
    fake = FakeAlegra(clock, failure, answer({"id": "77"}, 201))
    with pytest.raises(AlegraError) as info:
        make_client(fake).create_credit_note({"client": "1", "invoices": [{"id": "1", "amount": 10}]})
    assert info.value.transient  # the caller may try again, after reading what exists
    assert len(fake.requests) == 1


def test_a_post_whose_connection_was_refused_is_retried(clock):
    # The request never left: sending it again cannot create a second note.
    fake = FakeAlegra(clock, httpx.ConnectError("Connection refused"), answer({"id": "77"}, 201))
    assert make_client(fake).create_credit_note({"client": "1"}) == {"id": "77"}
    assert len(fake.requests) == 2


def test_a_non_json_2xx_is_transient_and_retried_for_get(clock):
    fake = FakeAlegra(clock, answer(raw="<html>Mantenimiento</html>"), answer({"id": "1"}))
    assert make_client(fake).get_invoice("1") == {"id": "1"}
    fake = FakeAlegra(clock, *[answer(raw="<html>Mantenimiento</html>")] * 2)
    with pytest.raises(AlegraError) as info:
        make_client(fake, max_attempts=2).get_invoice("1")
    assert info.value.transient and info.value.code == "invalid_json"


def test_errors_survive_pickling():
    import pickle

    error = AlegraError("El cliente no existe", status=400, code="3003", method="PUT", path="/invoices/1")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.status, copy.code, copy.message, copy.permanent, str(copy)) == (
        400, "3003", "El cliente no existe", True, str(error))


# --- rate limit --------------------------------------------------------------------


def test_429_then_success_honours_retry_after(clock):
    fake = FakeAlegra(clock,
                      answer({"message": "Límite de peticiones"}, 429,
                             headers={"Retry-After": "7", "X-Rate-Limit-Reset": "3",
                                      "X-Rate-Limit-Remaining": "0"}),
                      answer({"id": "1"}))
    client = make_client(fake)
    assert client.get_invoice("1") == {"id": "1"}
    assert clock.sleeps == [7]
    assert fake.times[1] - fake.times[0] == 7
    assert client.requests_made == 2


def test_429_waits_for_reset_when_it_is_longer(clock):
    fake = FakeAlegra(clock, answer({}, 429, headers={"Retry-After": "2", "X-Rate-Limit-Reset": "41"}),
                      answer({"id": "1"}))
    make_client(fake).get_invoice("1")
    assert clock.sleeps == [41]


@pytest.mark.parametrize("reset", ["-2", "0"])
def test_429_with_reset_not_positive_waits_one_second(clock, reset):
    fake = FakeAlegra(clock, answer({}, 429, headers={"X-Rate-Limit-Reset": reset,
                                                      "X-Rate-Limit-Remaining": "0"}),
                      answer({"id": "1"}))
    make_client(fake).get_invoice("1")
    assert clock.sleeps == [1]


def test_429_is_retried_even_for_post(clock):
    fake = FakeAlegra(clock, answer({}, 429, headers={"X-Rate-Limit-Reset": "5"}), answer({"id": "77"}, 201))
    assert make_client(fake).create_credit_note({"client": "1"}) == {"id": "77"}
    assert len(fake.requests) == 2


def test_429_forever_ends_as_a_transient_error(clock):
    fake = FakeAlegra(clock, *[answer({"message": "Demasiadas"}, 429, headers={"X-Rate-Limit-Reset": "2"})] * 5)
    with pytest.raises(AlegraError) as info:
        make_client(fake, max_attempts=3).get_invoice("1")
    assert (info.value.status, info.value.transient) == (429, True)
    assert len(fake.requests) == 3


def test_a_retry_after_too_long_fails_fast(clock):
    fake = FakeAlegra(clock, answer({}, 429, headers={"Retry-After": "3600"}))
    with pytest.raises(AlegraError) as info:
        make_client(fake, max_wait=120).get_invoice("1")
    assert info.value.transient
    assert len(fake.requests) == 1 and clock.sleeps == []


def test_remaining_zero_waits_for_reset_before_the_next_call(clock):
    fake = FakeAlegra(clock, answer({"id": "1"}, headers={"X-Rate-Limit-Remaining": "0",
                                                          "X-Rate-Limit-Reset": "12"}),
                      answer({"id": "2"}, headers={"X-Rate-Limit-Remaining": "149",
                                                   "X-Rate-Limit-Reset": "-2"}),
                      answer({"id": "3"}))
    client = make_client(fake)
    client.get_invoice("1")
    assert clock.sleeps == []  # the answer in hand is fine; the *next* call waits
    client.get_invoice("2")
    client.get_invoice("3")
    assert clock.sleeps == [12]
    assert fake.times == [fake.times[0], fake.times[0] + 12, fake.times[0] + 12]


def test_remaining_zero_seen_by_one_process_makes_another_wait(clock, tmp_path):
    from invoices.ratelimit import FileStore

    # Two clients with their own FileStore objects on one folder stand for two processes.
    first = FakeAlegra(clock, answer({"id": "1"}, headers={"X-Rate-Limit-Remaining": "0",
                                                           "X-Rate-Limit-Reset": "20"}))
    second = FakeAlegra(clock, answer({"id": "2"}))
    for fake in (first, second):
        fake.client = make_client(fake, limiter=RateLimiter(FileStore(tmp_path), 150, clock=clock,
                                                            sleep=clock.sleep))
    first.client.get_invoice("1")
    second.client.get_invoice("2")
    assert clock.sleeps == [20]


def test_the_client_never_exceeds_the_per_minute_budget(clock):
    fake = FakeAlegra(clock, route=lambda r: answer({"id": "1"}))
    client = make_client(fake, per_minute=5)
    for _ in range(12):
        client.get_invoice("1")
    starts = fake.times
    assert all(sum(1 for t in starts if s <= t < s + 60) <= 5 for s in starts)
    assert len(clock.sleeps) == 2  # two full windows waited, nothing more


def test_an_unreachable_limiter_store_is_a_transient_error(clock):
    class BrokenStore(MemoryStore):
        def reserve(self, *args: Any) -> tuple[float, float]:
            raise ConnectionError("redis is down")

    fake = FakeAlegra(clock, answer({"id": "1"}))
    with pytest.raises(AlegraError) as info:
        make_client(fake, limiter=RateLimiter(BrokenStore(), 150, clock=clock, sleep=clock.sleep)).get_invoice("1")
    assert info.value.transient and fake.requests == []


# --- secrets -----------------------------------------------------------------------


def test_the_token_never_appears_in_errors_or_logs(clock, caplog):
    echo = f"Authorization: Basic {BASIC}; token={TOKEN}; you sent {TOKEN}"
    fake = FakeAlegra(clock, answer({"message": echo}, 500), answer({"code": TOKEN, "message": echo}, 500),
                      httpx.ReadTimeout(f"timed out for {TOKEN}"), answer({"message": echo}, 401))
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(AlegraError) as info:
            make_client(fake).get_invoice("1")
    error = info.value
    assert error.status == 401
    for text in (str(error), repr(error), error.message, str(error.code), caplog.text):
        assert TOKEN not in text
        assert BASIC not in text
    assert "retrying" in caplog.text  # the retries were logged, just without the secret
    assert TOKEN not in repr(make_client(fake))


# --- value helpers -------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    (None, Decimal("0")), ("", Decimal("0")), ("  ", Decimal("0")), ("16.00", Decimal("16.00")),
    ("0.0000000000", Decimal("0")), (40, Decimal("40")), (0.1, Decimal("0.1")),
    (Decimal("1234567890123456.78"), Decimal("1234567890123456.78")), (" 46.4 ", Decimal("46.4")),
])
def test_money(raw, expected):
    assert money(raw) == expected and isinstance(money(raw), Decimal)


@pytest.mark.parametrize("text, value", [("12", "12"), ("-0.50", "-0.5"), (" 7.25 ", "7.25"), (".5", "0.5"),
                                         ("1E+2", "100"), ("1e-07", "0.0000001"), ("+3", "3")])
def test_money_reads_the_numbers_json_and_alegra_write(text, value):
    assert money(text) == Decimal(value)


def test_floats_are_refused_unless_asked_for():
    with pytest.raises(TypeError, match="float"):
        parse_decimal(0.1)
    assert parse_decimal(0.1, allow_float=True) == Decimal("0.1")


# Python's Decimal reads the last three (digit groups, Arabic-Indic and full-width digits): they
# would be stored and sent to Alegra as typed.
@pytest.mark.parametrize("garbage", ["abc", "1,234.56", "NaN", "Infinity", [1], {"a": 1}, "1_000", "٥٠", "７"])
def test_money_rejects_garbage_clearly(garbage):
    with pytest.raises(ValueError, match="not a"):
        money(garbage)


def test_a_bool_is_not_a_number():
    with pytest.raises(TypeError, match="bool"):
        money(True)


@pytest.mark.parametrize(("raw", "expected"), [
    (1, "1"), ("1", "1"), (" 12 ", "12"), (Decimal("14"), "14"), (14.0, "14"),
    ("0190a3c4-7f1e-7c3a-9b2d-4e5f6a7b8c9d", "0190a3c4-7f1e-7c3a-9b2d-4e5f6a7b8c9d"), ({"id": 3}, "3"),
])
def test_alegra_id(raw, expected):
    assert alegra_id(raw) == expected


@pytest.mark.parametrize("garbage", [None, "", True, 1.5, {"name": "x"}])
def test_alegra_id_rejects_garbage(garbage):
    with pytest.raises(ValueError):
        alegra_id(garbage)


def test_number_template_object_array_and_missing():
    as_object = {"numberTemplate": {"id": "19", "prefix": "FE", "number": "341", "fullNumber": "FE341"}}
    as_array = {"numberTemplate": [{"id": "19", "prefix": "FE", "number": "341", "fullNumber": "FE341"}]}
    assert number_template(as_object) == number_template(as_array) == as_object["numberTemplate"]
    assert full_number(as_object) == full_number(as_array) == "FE341"
    assert number_template({}) == {} and full_number({"numberTemplate": {"id": "123"}}) == ""
    assert full_number({"numberTemplate": [{"id": "1", "prefix": "SETP", "number": 990}]}) == "SETP990"
    assert full_number({"numberTemplate": []}) == ""


def test_full_number_of_a_recorded_invoice_without_prefix():
    invoice = cassette("recorded-simple_invoice.json")["response"]["body"]
    assert invoice["numberTemplate"]["prefix"] is None
    assert full_number(invoice) == str(invoice["numberTemplate"]["number"])


# --- webhooks --------------------------------------------------------------------------


def test_webhook_subscriptions(clock):
    sub = {"id": "8", "event": "edit-invoice", "url": "https://portal.example/hooks/abc"}
    fake = FakeAlegra(clock, answer({"subscription": sub}, 201), answer({"subscriptions": [sub]}),
                      answer({"code": 200, "message": "Suscripción eliminada"}))
    client = make_client(fake)
    assert client.create_webhook_subscription("edit-invoice", sub["url"]) == sub
    assert json.loads(fake.requests[0].content) == {"event": "edit-invoice", "url": sub["url"]}
    assert client.list_webhook_subscriptions() == [sub]
    client.delete_webhook_subscription(8)
    assert [(r.method, r.url.path) for r in fake.requests] == [
        ("POST", "/api/v1/webhooks/subscriptions"), ("GET", "/api/v1/webhooks/subscriptions"),
        ("DELETE", "/api/v1/webhooks/subscriptions/8")]


def test_invoice_actions_use_the_documented_paths(clock):
    fake = FakeAlegra(clock, route=lambda r: answer({"id": "1"}))
    client = make_client(fake)
    client.void_invoice(1)
    client.open_invoice("1")
    client.get_credit_note(4)
    client.put_contact("2", {"name": "Acme"})
    client.get_invoice(1, fields="pdf,xml")
    assert [(r.method, r.url.path) for r in fake.requests] == [
        ("POST", "/api/v1/invoices/1/void"), ("POST", "/api/v1/invoices/1/open"),
        ("GET", "/api/v1/credit-notes/4"), ("PUT", "/api/v1/contacts/2"), ("GET", "/api/v1/invoices/1")]
    assert fake.requests[-1].url.params["fields"] == "pdf,xml"
