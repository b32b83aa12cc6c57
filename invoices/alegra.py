"""Client for Alegra's REST API v1 (or anything that speaks it, such as the sandbox).

Built on an injectable `httpx.Client`, so tests hand it an `httpx.MockTransport`
or a WSGI transport onto the sandbox. What it guarantees:

- every failure is an `AlegraError` that says whether it is permanent (4xx) or
  transient (429, 5xx, timeouts, connection errors) and carries Alegra's code
  and Spanish message;
- bodies are parsed as JSON whatever the Content-Type says (Alegra sends
  `text/html`), with every non-integer number as `Decimal`;
- the credential's budget (150 requests a minute, shared by every process) is
  kept through `invoices.ratelimit`, and Alegra's own `X-Rate-Limit-*`,
  `Retry-After` and 429 answers push that shared budget back;
- idempotent calls (GET, PUT, DELETE) are retried on transient failures; a POST
  is retried only when Alegra provably never saw it (refused connection, 429),
  because creating a credit note twice is worse than failing once;
- the token is sent only in the Authorization header: never in a URL, a log
  line or an error message.
"""

from __future__ import annotations

import base64
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from django.conf import settings

from portal.counters import alegra_rate_limited
from portal.logging import redact

from .alegra_wire import (  # noqa: F401 (AlegraError, Page, loads and dumps are this module's API too)
    NOT_SENT, IDEMPOTENT_METHODS, MAX_PAGE_SIZE, PERMANENT_STATUSES, AlegraError, Page, as_int, error_fields,
    query_value, reset_seconds, segment, dumps, loads, unwrap_list,
)
from . import ratelimit
from .ratelimit import RateLimiter, credential_key, limiter_from_settings

log = logging.getLogger(__name__)

# --- the client ----------------------------------------------------------------


class AlegraClient:
    def __init__(
        self,
        base_url: str,
        email: str,
        token: str,
        *,
        http: httpx.Client | None = None,
        limiter: RateLimiter | None = None,
        timeout: float | httpx.Timeout | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_attempts: int = 5,
        max_wait: float = 120.0,
    ) -> None:
        if not email or not token:
            raise ValueError("an Alegra e-mail and token are required")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.email = email
        self._token = token
        self._owns_http = http is None
        self.http = http if http is not None else httpx.Client()
        self.limiter = limiter if limiter is not None else limiter_from_settings(sleep=sleep)
        self.key = credential_key(self.base_url, email)
        seconds = settings.ALEGRA_TIMEOUT_SECONDS if timeout is None else timeout
        self.timeout = seconds if isinstance(seconds, httpx.Timeout) else httpx.Timeout(seconds)
        self.sleep = sleep
        self.max_attempts = max_attempts
        # A wait longer than this (a Retry-After of an hour) fails fast as a
        # transient error instead of holding a worker or a web request.
        self.max_wait = max_wait
        self.requests_made = 0
        self.rate_limit_remaining: int | None = None
        self.rate_limit_reset: float | None = None
        self._headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": "enmienda",
        }
        self._auth = httpx.BasicAuth(email, token)

    @classmethod
    def for_company(cls, company: Any, **kwargs: Any) -> AlegraClient:
        return cls(company.base_url, company.api_email, company.token, **kwargs)

    def __repr__(self) -> str:
        return f"<AlegraClient {self.base_url} {self.email}>"

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def __enter__(self) -> AlegraClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the request loop --------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        before_send: Callable[[], None] | None = None,
    ) -> Any:
        """Send one call (retrying where safe) and return the parsed body. `before_send` is called
        once the rate limit grants each attempt's slot, just before it goes out: a write checks
        there that it is still its caller's to make."""
        method = method.upper()
        url = self.base_url + path
        content = dumps(body).encode() if body is not None else None
        query = {k: query_value(v) for k, v in (params or {}).items() if v is not None}
        idempotent = method in IDEMPOTENT_METHODS
        attempt = 0
        while True:
            attempt += 1
            last = attempt >= self.max_attempts
            self._acquire(method, path)
            if before_send is not None:
                before_send()
            self.requests_made += 1
            started = time.monotonic()
            try:
                response = self.http.request(
                    method, url, params=query, content=content,
                    headers=self._headers, auth=self._auth, timeout=self.timeout,
                )
            except httpx.RequestError as exc:
                error = self._transport_error(exc, method, path)
                maybe_arrived = not isinstance(exc, NOT_SENT)
                if error.permanent or last or (maybe_arrived and not idempotent):
                    raise error from exc
                self._backoff(attempt, error)
                continue
            log.debug("%s %s -> %s in %.0f ms", method, path, response.status_code,
                      (time.monotonic() - started) * 1000)
            self._note_rate_headers(response)
            status = response.status_code

            if status == 429:
                # Refused before any work was done: safe to retry for any method.
                alegra_rate_limited.inc()
                error = self._http_error(response, method, path)
                wait = self._retry_wait(response, attempt)
                self.limiter.pause(self.key, wait)
                if last or wait > self.max_wait:
                    raise error
                log.warning("%s; waiting %.1f s (attempt %d of %d)", error, wait, attempt, self.max_attempts)
                continue

            if 200 <= status < 300:
                text = response.text
                if not text.strip():
                    return None  # e.g. a DELETE answered 204
                try:
                    return loads(text)
                except ValueError:
                    # A 2xx whose body is not JSON is a proxy page or a cut
                    # answer, not a statement about our data: transient. A GET
                    # may simply ask again; a POST did happen, so the caller
                    # must read before trying again.
                    error = AlegraError(
                        "la respuesta no es JSON válido", status=status, code="invalid_json",
                        transient=True, method=method, path=path,
                    )
                    if last or not idempotent:
                        raise error from None
                    self._backoff(attempt, error)
                    continue

            error = self._http_error(response, method, path)
            if error.permanent or last or not idempotent:
                raise error
            self._backoff(attempt, error, at_least=self._retry_after(response) or 0.0)

    def _acquire(self, method: str, path: str) -> None:
        try:
            self.limiter.acquire(self.key, self.max_wait)
        except ratelimit.TooLong as exc:
            raise AlegraError(f"rate limited: {exc}", code="rate_limited", transient=True,
                              method=method, path=path) from None
        except Exception as exc:  # the limiter's store (Redis, a folder) is down
            raise AlegraError(
                f"rate limit store unavailable: {type(exc).__name__}",
                transient=True, method=method, path=path,
            ) from exc

    def _backoff(self, attempt: int, error: AlegraError, *, at_least: float = 0.0) -> None:
        # Exponential with jitter, so workers that failed together do not
        # come back together.
        delay = min(30.0, 0.5 * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)
        delay = max(delay, at_least)
        if delay > self.max_wait:
            raise error
        log.warning("%s; retrying in %.2f s (attempt %d of %d)", error, delay, attempt, self.max_attempts)
        self.sleep(delay)

    # -- reading answers ---------------------------------------------------------

    def _scrub(self, text: str) -> str:
        secret_forms = [self._token, base64.b64encode(f"{self.email}:{self._token}".encode()).decode()]
        for secret in secret_forms:
            if secret:
                text = text.replace(secret, "[redacted]")
        return redact(text)

    def _transport_error(self, exc: httpx.RequestError, method: str, path: str) -> AlegraError:
        kind = "timeout" if isinstance(exc, httpx.TimeoutException) else type(exc).__name__
        detail = self._scrub(str(exc))[:200]
        return AlegraError(
            f"{kind}: {detail}" if detail else kind,
            # A URL Alegra cannot speak (a typo in base_url) will not heal by itself.
            transient=not isinstance(exc, (httpx.UnsupportedProtocol, httpx.LocalProtocolError)),
            method=method, path=path,
        )

    def _http_error(self, response: httpx.Response, method: str, path: str) -> AlegraError:
        status = response.status_code
        text = response.text
        try:
            body = loads(text) if text.strip() else None
        except ValueError:
            body = None
        code, message = error_fields(body)
        if not message:
            snippet = " ".join(text.split())[:200] if body is None else ""
            message = snippet or response.reason_phrase or f"HTTP {status}"
        transient = None
        if status in PERMANENT_STATUSES:
            transient = False
        return AlegraError(
            self._scrub(message), status=status, code=code and self._scrub(code),
            transient=transient, method=method, path=path,
        )

    def _note_rate_headers(self, response: httpx.Response) -> None:
        remaining = as_int(response.headers.get("X-Rate-Limit-Remaining"))
        reset = reset_seconds(response.headers.get("X-Rate-Limit-Reset"))
        self.rate_limit_remaining, self.rate_limit_reset = remaining, reset
        if remaining is not None and remaining <= 0 and response.status_code != 429:
            # The budget is spent for this window: everyone sharing the
            # credential waits for the reset, not only this process.
            self.limiter.pause(self.key, reset if reset is not None else self.limiter.window_seconds)

    def _retry_after(self, response: httpx.Response) -> float | None:
        raw = response.headers.get("Retry-After")
        if raw is None or not raw.strip():
            return None
        raw = raw.strip()
        try:
            return max(0.0, float(raw))
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())

    def _retry_wait(self, response: httpx.Response, attempt: int) -> float:
        """How long a 429 asks us to wait: the longest of Retry-After and Reset."""
        hints = [w for w in (self._retry_after(response),
                             reset_seconds(response.headers.get("X-Rate-Limit-Reset"))) if w is not None]
        if hints:
            return max(hints)
        return min(60.0, 2.0 ** (attempt - 1))

    # -- lists -------------------------------------------------------------------

    def iter_pages(self, path: str, *, start: int = 0, limit: int = MAX_PAGE_SIZE,
                   **filters: Any) -> Iterator[Page]:
        """Walk a list page by page from offset `start`; each Page says where it began.

        Stops at the reported total, or (when no total is given) at a short or
        empty page. A sync can record `page.start + len(page.items)` and resume there.
        """
        limit = max(1, min(int(limit), MAX_PAGE_SIZE))
        start = max(0, int(start))
        previous_ids: list | None = None
        while True:
            params = {**filters, "start": start, "limit": limit, "metadata": "true"}
            items, total = unwrap_list(self.request("GET", path, params=params))
            yield Page(start, total, items)
            if not items:
                return
            start += len(items)
            if total is not None:
                if start >= total:
                    return
                continue
            if len(items) < limit:
                return
            # Without a total, a server that ignores `start` would loop forever.
            ids = [d.get("id") if isinstance(d, dict) else d for d in items]
            if ids == previous_ids:
                raise AlegraError("la paginación no avanza (start ignorado)", status=200,
                                  transient=False, method="GET", path=path)
            previous_ids = ids

    def iter_all(self, path: str, **filters: Any) -> Iterator[dict]:
        for page in self.iter_pages(path, **filters):
            yield from page.items

    def _get_object(self, path: str, params: Mapping[str, Any] | None = None) -> dict:
        return self._object(self.request("GET", path, params=params), "GET", path)

    @staticmethod
    def _object(body: Any, method: str, path: str) -> dict:
        if not isinstance(body, dict):
            raise AlegraError("la respuesta no es un objeto", status=200, transient=False,
                              method=method, path=path)
        return body

    # -- invoices ----------------------------------------------------------------

    def iter_invoice_pages(self, *, start: int = 0, limit: int = MAX_PAGE_SIZE, **filters: Any) -> Iterator[Page]:
        return self.iter_pages("/invoices", start=start, limit=limit, **filters)

    def iter_invoices(self, **filters: Any) -> Iterator[dict]:
        return self.iter_all("/invoices", **filters)

    def list_invoices(self, **filters: Any) -> list[dict]:
        return list(self.iter_invoices(**filters))

    def get_invoice(self, invoice_id: Any, *, fields: str | None = None) -> dict:
        return self._get_object(f"/invoices/{segment(invoice_id)}", {"fields": fields})

    def put_invoice(self, invoice_id: Any, body: Mapping[str, Any], *,
                    before_send: Callable[[], None] | None = None) -> dict:
        path = f"/invoices/{segment(invoice_id)}"
        return self._object(self.request("PUT", path, body=body, before_send=before_send), "PUT", path)

    def void_invoice(self, invoice_id: Any) -> Any:
        return self.request("POST", f"/invoices/{segment(invoice_id)}/void")

    def open_invoice(self, invoice_id: Any) -> Any:
        return self.request("POST", f"/invoices/{segment(invoice_id)}/open")

    # -- credit notes --------------------------------------------------------------

    def create_credit_note(self, body: Mapping[str, Any], *, before_send: Callable[[], None] | None = None) -> dict:
        """Not idempotent: a timeout or 5xx is raised, never retried; read before retrying."""
        return self._object(self.request("POST", "/credit-notes", body=body, before_send=before_send),
                            "POST", "/credit-notes")

    def get_credit_note(self, note_id: Any) -> dict:
        return self._get_object(f"/credit-notes/{segment(note_id)}")

    def iter_credit_notes(self, **filters: Any) -> Iterator[dict]:
        return self.iter_all("/credit-notes", **filters)

    # -- catalogues ----------------------------------------------------------------

    def iter_contact_pages(self, *, start: int = 0, limit: int = MAX_PAGE_SIZE, **filters: Any) -> Iterator[Page]:
        return self.iter_pages("/contacts", start=start, limit=limit, **filters)

    def iter_contacts(self, **filters: Any) -> Iterator[dict]:
        return self.iter_all("/contacts", **filters)

    def get_contact(self, contact_id: Any) -> dict:
        return self._get_object(f"/contacts/{segment(contact_id)}")

    def put_contact(self, contact_id: Any, body: Mapping[str, Any], *,
                    before_send: Callable[[], None] | None = None) -> dict:
        path = f"/contacts/{segment(contact_id)}"
        return self._object(self.request("PUT", path, body=body, before_send=before_send), "PUT", path)

    def iter_item_pages(self, *, start: int = 0, limit: int = MAX_PAGE_SIZE, **filters: Any) -> Iterator[Page]:
        return self.iter_pages("/items", start=start, limit=limit, **filters)

    def iter_items(self, **filters: Any) -> Iterator[dict]:
        return self.iter_all("/items", **filters)

    def get_item(self, item_id: Any) -> dict:
        return self._get_object(f"/items/{segment(item_id)}")

    def list_taxes(self) -> list[dict]:
        return list(self.iter_all("/taxes"))

    def list_retentions(self) -> list[dict]:
        return self._catalogue("/retentions")

    def list_sellers(self) -> list[dict]:
        return self._catalogue("/sellers")

    def list_price_lists(self) -> list[dict]:
        return self._catalogue("/price-lists")

    def _catalogue(self, path: str) -> list[dict]:
        """A small catalogue, which Alegra may answer whole whatever `start` and `limit` say (as the
        recorded answers and the sandbox do) or a page at a time: read until a page brings nothing
        new. Walked as a paged list, thirty sellers or retentions failed every full sync."""
        found: dict[str, dict] = {}
        start = 0
        while True:
            params = {"start": start, "limit": MAX_PAGE_SIZE, "metadata": "true"}
            items, total = unwrap_list(self.request("GET", path, params=params))
            fresh = {str(item.get("id")): item for item in items
                     if isinstance(item, dict) and str(item.get("id")) not in found}
            found.update(fresh)
            start += len(items)
            if not fresh or len(items) != MAX_PAGE_SIZE or (total is not None and start >= total):
                return list(found.values())

    def get_company(self) -> dict:
        return self._get_object("/company")

    # -- webhooks ------------------------------------------------------------------

    def list_webhook_subscriptions(self) -> list[dict]:
        body = self.request("GET", "/webhooks/subscriptions")
        if isinstance(body, dict) and isinstance(body.get("subscriptions"), list):
            return body["subscriptions"]
        return unwrap_list(body)[0]

    def create_webhook_subscription(self, event: str, url: str) -> dict:
        path = "/webhooks/subscriptions"
        body = self._object(self.request("POST", path, body={"event": event, "url": url}), "POST", path)
        subscription = body.get("subscription")
        return subscription if isinstance(subscription, dict) else body

    def delete_webhook_subscription(self, subscription_id: Any) -> Any:
        return self.request("DELETE", f"/webhooks/subscriptions/{segment(subscription_id)}")
