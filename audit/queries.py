"""Reads of the audit log: filters, keyset pages, the invoice timeline, the export stream.

Pages are keyset pages on (at, seq), newest first, served by the (company, at, seq)
indexes: the cost of a page does not grow with the size of the log, and no page
counts the rows it does not show.
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet, TextField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

from invoices.models import Invoice
from portal.models import Company

from .models import AuditEntry, AuditVerification

PAGE_SIZE = 50
TIMELINE_SIZE = 50
# The version pickers offer the latest versions (and the ones compared); all of them on demand.
PICKER_VERSIONS = 30
MAX_WANTED = 200
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
ONE_MICROSECOND = datetime.timedelta(microseconds=1)
ENTRY_COLUMNS = ("id", "company_id", "seq", "at", "actor_id", "on_behalf_of", "action", "invoice_id",
                 "change_request_id", "source", "source_id", "why", "what", "hash",
                 "actor__username", "actor__first_name", "actor__last_name", "actor__is_active")


def company_zone(company: Company) -> zoneinfo.ZoneInfo:
    """The company's time zone; a name the system does not know falls back to the portal's."""
    try:
        return zoneinfo.ZoneInfo(company.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def encode_cursor(at: datetime.datetime, seq: int) -> str:
    return f"{(at - EPOCH) // ONE_MICROSECOND}.{seq}"


def decode_cursor(text: str) -> tuple[datetime.datetime, int] | None:
    """(at, seq) or None for text that is not a cursor of ours."""
    micros, dot, seq = (text or "").partition(".")
    if not dot or not micros.lstrip("-").isdigit() or not seq.isdigit() or len(micros) > 18 or len(seq) > 18:
        return None
    try:
        return EPOCH + int(micros) * ONE_MICROSECOND, int(seq)
    except (OverflowError, ValueError):  # "²" passes isdigit(), not int()
        return None


def _older_than(cursor: tuple[datetime.datetime, int]) -> Q:
    at, seq = cursor
    # The plain `at <= …` lets the index range start at the cursor.
    return Q(at__lte=at) & (Q(at__lt=at) | Q(seq__lt=seq))


@dataclass(frozen=True)
class Filters:
    start: datetime.datetime | None = None
    end: datetime.datetime | None = None
    actor: str = ""  # "", "system" or a user id
    invoice_ids: tuple[int, ...] | None = None
    action: str = ""


def filtered(company: Company, filters: Filters) -> QuerySet[AuditEntry]:
    entries = AuditEntry.objects.filter(company=company)
    if filters.start is not None:
        entries = entries.filter(at__gte=filters.start)
    if filters.end is not None:
        entries = entries.filter(at__lt=filters.end)
    if filters.actor == "system":
        entries = entries.filter(actor__isnull=True)
    elif filters.actor:
        entries = entries.filter(actor_id=int(filters.actor))
    if filters.invoice_ids is not None:
        entries = entries.filter(invoice_id__in=list(filters.invoice_ids))
    if filters.action:
        entries = entries.filter(action=filters.action)
    return entries


@dataclass
class Page:
    rows: list[dict]
    next_cursor: str | None


def _page(entries: QuerySet[AuditEntry], cursor, size: int) -> Page:
    if cursor is not None:
        entries = entries.filter(_older_than(cursor))
    rows = list(entries.order_by("-at", "-seq").values(*ENTRY_COLUMNS, "invoice__number")[:size + 1])
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        next_cursor = encode_cursor(rows[-1]["at"], rows[-1]["seq"])
    return Page(rows, next_cursor)


def log_page(company: Company, filters: Filters, cursor=None, size: int = PAGE_SIZE) -> Page:
    return _page(filtered(company, filters), cursor, size)


def timeline_page(invoice: Invoice, cursor=None, size: int = TIMELINE_SIZE) -> Page:
    entries = AuditEntry.objects.filter(company_id=invoice.company_id, invoice_id=invoice.pk)
    return _page(entries, cursor, size)


@dataclass
class Versions:
    """Some of an invoice's versions, newest first, light columns only, each numbered from the first
    (`number`) and pointing at the one before it (`previous`); `count` is how many it has in all."""

    rows: list[dict]
    count: int


def versions(invoice: Invoice, wanted: set[int] = frozenset(), latest: int | None = PICKER_VERSIONS) -> Versions:
    """The `latest` versions (all of them when None) and those in `wanted`, in one query.

    The numbering reads the (invoice, version) index only, and only from the oldest version
    asked for (the one before it gives its `previous`): a count of the versions, then each
    number counted down from the newest. The rows themselves are read for the versions
    returned, so a page costs the same with twenty versions or twenty thousand.
    """
    model = Invoice.history.model
    table = model._meta.db_table
    wanted_ids = sorted(int(ident) for ident in wanted)[:MAX_WANTED]
    if latest is None:
        bounds, keep, params = "0, CAST(NULL AS integer)", "TRUE", [invoice.pk, invoice.pk]
    else:
        # From the version before the `latest` newest and the one before the oldest wanted
        # (none of either: from the first).
        before_wanted = (f"COALESCE((SELECT max(history_id) FROM {table} WHERE id = %s AND history_id < %s), 0)"
                         if wanted_ids else "CAST(NULL AS integer)")
        bounds = (f"COALESCE((SELECT history_id FROM {table} WHERE id = %s ORDER BY history_id DESC "
                  f"LIMIT 1 OFFSET %s), 0), {before_wanted}")
        keep = "n.number > n.version_count - %s" + (
            f" OR n.history_id IN ({', '.join(['%s'] * len(wanted_ids))})" if wanted_ids else "")
        params = [invoice.pk, latest, *([invoice.pk, wanted_ids[0]] if wanted_ids else []), invoice.pk, invoice.pk,
                  latest, *wanted_ids]
    sql = f"""
        WITH c AS (SELECT {bounds}, count(*) FROM {table} WHERE id = %s),
        b (low_latest, low_wanted, version_count) AS (SELECT * FROM c),
        n AS (
            SELECT history_id, b.version_count + 1 - ROW_NUMBER() OVER w AS number,
                   LEAD(history_id) OVER w AS previous, b.version_count
            FROM {table} CROSS JOIN b
            WHERE id = %s AND history_id >= CASE WHEN b.low_wanted < b.low_latest THEN b.low_wanted
                                                 ELSE b.low_latest END
            WINDOW w AS (ORDER BY history_id DESC))
        SELECT n.history_id, n.number, n.previous, n.version_count, h.history_date, h.history_type,
               h.history_change_reason, h.content_hash, h.status, h.total, h.is_deleted
        FROM n JOIN {table} h ON h.history_id = n.history_id
        WHERE {keep}
        ORDER BY n.history_id DESC"""
    rows, count = [], 0
    for version in model.objects.raw(sql, params):
        count = version.version_count
        rows.append({
            "history_id": version.history_id, "number": version.number, "previous": version.previous,
            "is_current": version.number == count, "history_date": version.history_date,
            "history_type": version.history_type, "history_change_reason": version.history_change_reason,
            "content_hash": version.content_hash, "status": version.status, "total": version.total,
            "is_deleted": version.is_deleted,
        })
    return Versions(rows, count)


def version_documents(invoice: Invoice, history_ids: list[int]) -> dict[int, dict]:
    return {
        row["history_id"]: row for row in invoice.history.filter(history_id__in=history_ids).values(
            "history_id", "history_date", "document", "decimal_precision", "content_hash")
    }


def latest_verification(company_id: int) -> AuditVerification | None:
    return AuditVerification.objects.filter(chain=company_id).order_by("-at", "-id").first()


EXPORT_COLUMNS = ("seq", "at_utc", "at_local", "actor__username", "actor__first_name", "actor__last_name",
                  "on_behalf_of", "action", "invoice_id", "invoice__number", "invoice__alegra_id",
                  "change_request_id", "source", "source_id", "why", "what_text", "prev_hash", "hash")
# ISO 8601 to the microsecond, as Python's isoformat writes it (the chain hashes the UTC form).
_ISO = "YYYY-MM-DD\"T\"HH24:MI:SS.US"
_AT_UTC = f"to_char(audit_auditentry.at AT TIME ZONE 'UTC', '{_ISO}\"Z\"')"
_OFFSET = "EXTRACT(EPOCH FROM (audit_auditentry.at AT TIME ZONE %s) - (audit_auditentry.at AT TIME ZONE 'UTC'))::int"
_AT_LOCAL = (f"to_char(audit_auditentry.at AT TIME ZONE %s, '{_ISO}') || CASE WHEN {_OFFSET} < 0 THEN '-' ELSE '+' END"
             f" || lpad((abs({_OFFSET}) / 3600)::text, 2, '0') || ':' || lpad((abs({_OFFSET}) %% 3600 / 60)::text, 2, '0')")

_AT_LOCAL_OF_SESSION = f"to_char(audit_auditentry.at, '{_ISO}TZH:TZM')"


def utc_text(at: datetime.datetime) -> str:
    # The same text the chain hashes (see audit.chain.time_text), produced faster.
    return at.astimezone(datetime.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def export_rows(company: Company, filters: Filters, chunk_size: int = 2000):
    """Every entry the filters select in chain order, streamed from the database in chunks.

    Chain order (not time order) so that an unfiltered export can be re-verified link by link.
    `what` comes as the database's JSON text: written out as it is, never parsed and re-encoded.
    Times come as text in UTC and in the company's zone: on PostgreSQL the database writes them
    (to_char), which costs a fraction of formatting a million datetimes in Python.
    """
    if connection.vendor == "postgresql":
        return export_values(company, filters).iterator(chunk_size=chunk_size)
    return export_rows_python(company, filters, chunk_size)


def export_values(company: Company, filters: Filters, *, zone_of_session: bool = False) -> QuerySet:
    """PostgreSQL only: the EXPORT_COLUMNS in chain order, the times written by the database.

    `zone_of_session`: the local time in the session's time zone, which the caller has set to the
    company's (one conversion a row instead of nine).
    """
    local = RawSQL(_AT_LOCAL_OF_SESSION, ()) if zone_of_session else RawSQL(_AT_LOCAL, (company_zone(company).key,) * 4)
    return (filtered(company, filters).annotate(what_text=Cast("what", TextField()), at_utc=RawSQL(_AT_UTC, ()),
                                                at_local=local)
            .order_by("seq").values_list(*EXPORT_COLUMNS))


def export_rows_python(company: Company, filters: Filters, chunk_size: int = 2000):
    """The rows of export_rows with the times written by Python, on any database."""
    zone = company_zone(company)
    entries = filtered(company, filters).annotate(what_text=Cast("what", TextField()))
    columns = ["at" if name == "at_utc" else name for name in EXPORT_COLUMNS if name != "at_local"]
    rows = entries.order_by("seq").values_list(*columns).iterator(chunk_size=chunk_size)
    return ((seq, utc_text(at), at.astimezone(zone).isoformat(timespec="microseconds"), *rest)
            for seq, at, *rest in rows)
