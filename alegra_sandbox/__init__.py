"""An Alegra-compatible API (v1) for the demo and the tests, under /sandbox/api/v1.

The portal reaches it only over HTTP, through the same client it uses for the
real Alegra. It answers like the recordings in shared/alegra-fixtures: JSON
labelled text/html, ids as strings (item ids as numbers), money as strings at
the invoice's decimalPrecision, Spanish messages, X-Rate-Limit-* headers.

Endpoints: invoices (list with paging ≤ 30, filters, ordering, metadata; get,
create, partial PUT, delete, void, open, email), credit-notes, contacts, items,
taxes ({"total", "results"}), retentions, sellers, price-lists, warehouses,
number-templates, company, webhooks/subscriptions.

Refusals are {"code", "message"} (404s are {"error", "code"}); the codes are
listed in errors.Code. Writes live in services/ (also used by tests and the
demo "as a person in Alegra's UI"), arithmetic in arithmetic.py, webhook
delivery in delivery.py, the request budget in ratelimit.py, test helpers in
testing.py. Setting read: SANDBOX_WEBHOOKS_IN_THREAD (deliver webhooks from a
background thread instead of inline after commit; default off).
"""
