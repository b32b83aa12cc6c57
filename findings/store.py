"""Reading the mirror into facts, and reading and writing the fact tables.

Queries here load whole sets at once (never one per invoice), so a full scan costs a handful of
queries whatever the size, and an incremental one a handful more.
"""

from __future__ import annotations

import datetime
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from decimal import Decimal
from types import SimpleNamespace

from django.db import connection
from django.db.models.fields.json import KT

from invoices.models import Contact, Invoice, InvoiceLine, Item

from . import facts
from .facts import CatalogueItem, InvoiceRow, LineRow
from .models import InvoiceFact, LineFact

CHUNK = 2000
SLICES_PER_QUERY = 100  # SQLite allows 500 terms in one compound SELECT; each anchor makes two
INVOICE_COLUMNS = ("id", "id_sort", "client_alegra_id", "client_name", "client_identification", "date",
                   "due_date", "number", "total", "decimal_precision", "is_stamped", "status", "line_count")
# Read out of the body (JSON paths): the price list, and the particulars a twin shares.
BODY_PATHS = {"price_list": ("priceList", "id"), "seller": ("seller", "id"), "payment_method": ("paymentMethod",),
              "observations": ("observations",), "anotation": ("anotation",)}
FROM_BODY = {name: KT("document__" + "__".join(path)) for name, path in BODY_PATHS.items()}
LINE_COLUMNS = ("invoice_id", "position", "item_alegra_id", "name", "price", "quantity", "discount_percent",
                "tax_percent")


def _chunks(values: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def mirror_invoices(company_id: int) -> list[dict]:
    """Mirror columns (and the price list the body names) of every invoice that can be flagged."""
    rows = (Invoice.objects.filter(company_id=company_id, is_deleted=False).exclude(status="void")
            .annotate(**FROM_BODY).values(*INVOICE_COLUMNS, *FROM_BODY))
    return list(rows.order_by("id").iterator(chunk_size=CHUNK))


def mirror_lines(company_id: int) -> dict[int, list[dict]]:
    found: dict[int, list[dict]] = defaultdict(list)
    rows = InvoiceLine.objects.filter(company_id=company_id).values(*LINE_COLUMNS)
    for row in rows.order_by("invoice_id", "position").iterator(chunk_size=CHUNK):
        found[row["invoice_id"]].append(row)
    return found


def catalogue(company_id: int) -> dict[str, CatalogueItem]:
    # Only the parts of each body the facts read, in no particular order.
    rows = (Item.objects.filter(company_id=company_id, is_deleted=False).order_by()
            .values_list("alegra_id", "document__price", "document__tax", "document__name"))
    return {ident: _item(price, tax, name) for ident, price, tax, name in rows}


def _item(price, tax, name) -> CatalogueItem:
    """A catalogue item from the parts of its body the facts read."""
    return facts.catalogue_item({"price": price, "tax": tax, "name": name})


def _contact(identification: str, days) -> dict:
    """A contact as facts.build reads it: its identification and its terms."""
    return {"identification": identification, "document": {"term": {"days": days}}}


def catalogue_version(company_id: int) -> tuple:
    """A digest of every item's id, content hash and deletion mark: equal only if the catalogue
    is (reading the short hashes, not the documents they stand for)."""
    entry = "alegra_id || ':' || content_hash || ':' || CAST(is_deleted AS TEXT)"
    table = Item._meta.db_table
    if connection.vendor == "postgresql":
        sql = f"SELECT COUNT(*), md5(string_agg({entry}, ',' ORDER BY alegra_id)) FROM {table} WHERE company_id = %s"
    else:
        sql = (f"SELECT COUNT(*), group_concat(entry, ',') FROM (SELECT {entry} AS entry FROM {table} "
               f"WHERE company_id = %s ORDER BY alegra_id)")
    with connection.cursor() as cursor:
        cursor.execute(sql, [company_id])
        return tuple(cursor.fetchone())


def contacts(company_id: int) -> dict[str, dict]:
    # Only the contact's terms are read from its body: a JSON path, not 1,500 whole documents.
    rows = (Contact.objects.filter(company_id=company_id, is_deleted=False)
            .annotate(term_days=KT("document__term__days")).values("alegra_id", "identification", "term_days"))
    return {row["alegra_id"]: _contact(row["identification"], row["term_days"]) for row in rows}


def changed_invoices(company_id: int, invoice_ids: list[int]) -> tuple[list[InvoiceRow], list[LineRow]]:
    """The facts of a few changed invoices: the invoices with their clients' contacts, and the
    lines with the catalogue items they name (two joins, plain SQL: a webhook's scan of one
    invoice spent more building four querysets than running them)."""
    invoices, lines = [], defaultdict(list)
    width = len(INVOICE_COLUMNS)
    read_invoice = _reader(Invoice, list(INVOICE_COLUMNS))
    body = [_json_text("i.document", *path) for path in BODY_PATHS.values()]
    sql = _joined(Invoice, [f"i.{c}" for c in INVOICE_COLUMNS] + body, Contact, "client_alegra_id",
                  ["j.alegra_id", "j.identification", _json_text("j.document", "term", "days")],
                  "i.company_id = %s AND i.is_deleted = %s AND i.status <> 'void' AND i.id")
    for row in _rows_in(sql, [False, company_id, False], invoice_ids):
        invoice = dict(zip(INVOICE_COLUMNS, read_invoice(row[:width])))
        invoice.update(zip(BODY_PATHS, row[width:width + len(BODY_PATHS)]))
        contact_id, identification, days = row[-3:]
        invoice["contact"] = None if contact_id is None else _contact(identification, days)
        invoices.append(invoice)
    items: dict[str, CatalogueItem] = {}
    read_line = _reader(InvoiceLine, list(LINE_COLUMNS))
    sql = _joined(InvoiceLine, [f"i.{c}" for c in LINE_COLUMNS], Item, "item_alegra_id",
                  ["j.alegra_id", _json_text("j.document", "price", text=False),
                   _json_text("j.document", "tax", text=False), _json_text("j.document", "name")],
                  "i.company_id = %s AND i.invoice_id")
    ids = [invoice["id"] for invoice in invoices]
    for row in _rows_in(sql, [False, company_id], ids, then="ORDER BY i.invoice_id, i.position"):
        line = dict(zip(LINE_COLUMNS, read_line(row[:len(LINE_COLUMNS)])))
        lines[line["invoice_id"]].append(line)
        ident, price, tax, name = row[len(LINE_COLUMNS):]
        if ident is not None and ident not in items:
            items[ident] = _item(_json_value(price), _json_value(tax), name)
    people = {i["client_alegra_id"]: i.pop("contact") for i in invoices}
    return build_all(invoices, lines, items, {k: v for k, v in people.items() if v is not None})


def _joined(model, columns: list[str], other, key: str, other_columns: list[str], where: str) -> str:
    """SELECT columns of `model` (alias i) and of the catalogue entry (alias j, not deleted, or
    NULLs) its `key` names, WHERE `where`."""
    return (f"SELECT {', '.join(columns + other_columns)} FROM {model._meta.db_table} AS i LEFT JOIN {other._meta.db_table} AS j "
            f"ON j.company_id = i.company_id AND j.alegra_id = i.{key} AND j.is_deleted = %s WHERE {where}")


def _rows_in(sql: str, params: list, ids: list[int], then: str = "") -> Iterator[tuple]:
    """The rows of `sql` (ending in the column to match) for these ids, 500 at a time."""
    for part in _chunks(ids, 500):
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} IN ({', '.join(['%s'] * len(part))}) {then}", [*params, *part])
            yield from cursor.fetchall()


def _json_text(column: str, *path: str, text: bool = True) -> str:
    """SQL reading a path of a JSON column: as text (`text`), or as JSON text to be parsed."""
    if connection.vendor == "postgresql":
        return f"({column} {'#>>' if text else '#>'} '{{{','.join(path)}}}')"
    # SQLite: a scalar comes back as its SQL value, an array or object as JSON text.
    return f"json_extract({column}, '$.{'.'.join(path)}')"


def _json_value(text):
    return json.loads(text) if isinstance(text, str) else None


def build_all(invoices: list[dict], lines: dict[int, list[dict]], items: dict[str, CatalogueItem],
              people: dict[str, dict]) -> tuple[list[InvoiceRow], list[LineRow]]:
    invoice_rows, line_rows = [], []
    for invoice in invoices:
        fact, rows = facts.build(invoice, lines.get(invoice["id"], []), items, people.get(invoice["client_alegra_id"]))
        invoice_rows.append(fact)
        line_rows.extend(rows)
    return invoice_rows, line_rows


# --- the fact tables --------------------------------------------------------------------------


def line_rows(any_of: list[dict] | None = None, **common) -> list[tuple[int, LineRow]]:
    """(pk, fact) of the line facts matching every `common` condition and any of `any_of`."""
    return [(row[0], LineRow(*row[1:])) for row in _select(LineFact, ["id", *facts.LINE_FIELDS], any_of, common)]


def invoice_rows(any_of: list[dict] | None = None, **common) -> list[InvoiceRow]:
    return [InvoiceRow(*row) for row in _select(InvoiceFact, ["invoice", *facts.INVOICE_FIELDS[1:]], any_of, common)]


OPERATORS = {"": "= %s", "lt": "< %s", "gte": ">= %s"}


def _conditions(model, conditions: dict) -> tuple[str, list]:
    """SQL for a few Django-style conditions (`field`, `field__in`, `field__lt`, `field__gte`)."""
    parts, params = [], []
    for lookup, value in conditions.items():
        name, _, op = lookup.partition("__")
        column = model._meta.get_field(name).column
        if op == "in":
            values = list(value)
            parts.append(f"{column} IN ({', '.join(['%s'] * len(values))})" if values else "1 = 0")
            params += [_adapted(v) for v in values]
        else:
            parts.append(f"{column} {OPERATORS[op]}")
            params.append(_adapted(value))
    return " AND ".join(parts) or "1 = 1", params


def _select(model, names: list[str], any_of: list[dict] | None, common: dict) -> list:
    """Plain SQL: the incremental scan reads facts a handful of times, and compiling a queryset
    each time cost more than the read."""
    where, params = _conditions(model, common)
    if any_of is not None:
        groups = [_conditions(model, group) for group in any_of] or [("1 = 0", [])]
        where += " AND (" + " OR ".join(f"({sql})" for sql, _ in groups) + ")"
        params += [p for _, group in groups for p in group]
    columns = ", ".join(model._meta.get_field(n).column for n in names)
    read = _reader(model, names)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {model._meta.db_table} WHERE {where}", params)
        return [read(row) for row in cursor.fetchall()]


def counts_read(model, company_id: int, key: tuple[str, ...], **conditions) -> dict[tuple, tuple[int, Counter]]:
    """The company's rows of a count table (PriceMonth, ClientTaxHabit) matching `conditions`:
    {key values: (pk, counts)}."""
    rows = _select(model, ["id", *key, "counts"], None, {"company_id": company_id, **conditions})
    return {tuple(row[1:-1]): (row[0], Counter(_json_value(row[-1]) or {})) for row in rows}


def counts_write(model, company_id: int, key: tuple[str, ...], stored: dict[tuple, tuple[int, Counter]],
                 wanted: dict[tuple, Counter]) -> None:
    """Make the rows of `wanted` hold those counts: created, rewritten, or deleted once empty."""
    created, changed, emptied = [], [], []
    for values, counts in wanted.items():
        pk = stored[values][0] if values in stored else None
        if pk is None:
            if counts:
                created.append(model(company_id=company_id, counts=dict(counts), **dict(zip(key, values))))
        elif counts:
            changed.append(model(pk=pk, counts=dict(counts)))
        else:
            emptied.append(pk)
    model.objects.bulk_create(created)
    update_objects(model, ["counts"], changed)
    if emptied:
        model.objects.filter(pk__in=emptied).delete()


def replace_all(company_id: int, invoice_rows: list[InvoiceRow], line_rows: list[LineRow]) -> int:
    """Make the company's fact tables hold exactly these rows, writing only the rows that differ
    (a nightly rescan of an unchanged mirror writes nothing). Returns how many rows were written."""
    written = 0
    for model, rows, names, key in ((InvoiceFact, invoice_rows, facts.INVOICE_FIELDS, ("invoice_id",)),
                                    (LineFact, line_rows, facts.LINE_FIELDS, ("invoice_id", "position"))):
        width = len(key)
        existing = {}
        pk_name = "id" if model is LineFact else "invoice_id"
        for pk, *values in (model.objects.filter(company_id=company_id).values_list(pk_name, *names)
                            .iterator(chunk_size=CHUNK)):
            existing[tuple(values[:width])] = (pk, tuple(values))
        fresh, stale = [], []
        for row in rows:
            values = tuple(getattr(row, n) for n in names)
            found = existing.pop(values[:width], None)
            if found is None or found[1] != values:
                fresh.append(row)
                if found is not None:
                    stale.append(found[0])
        stale += [pk for pk, _values in existing.values()]  # invoices no longer there (void, deleted)
        for part in _chunks(stale):
            model.objects.filter(**{f"{pk_name}__in": part}).delete()
        _insert(model, company_id, names, fresh)
        written += len(stale) + len(fresh)
    return written


def insert_lines(company_id: int, rows: list[LineRow]) -> None:
    _insert(LineFact, company_id, facts.LINE_FIELDS, rows)


def insert_invoices(company_id: int, rows: list[InvoiceRow]) -> None:
    _insert(InvoiceFact, company_id, facts.INVOICE_FIELDS, rows)


def _insert(model, company_id: int, names: list[str], rows: list) -> None:
    if not rows:
        return
    if connection.vendor == "postgresql":  # even for a few rows: no model instances to build
        _copy(model, company_id, names, rows)
        return
    for part in _chunks(rows):
        model.objects.bulk_create([model(company_id=company_id, **{n: getattr(r, n) for n in names}) for r in part])


def _copy(model, company_id: int, names: list[str], rows: list) -> None:
    """PostgreSQL's COPY: a full scan writes 300,000 line facts in seconds, not minutes; a change's
    hundred in a fraction of what bulk_create spends building instances."""
    columns = ["company_id"] + [model._meta.get_field(n).column for n in names]
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([company_id] + [getattr(row, n) for n in names])


def _adapted(value):
    """A value for a plain SQL parameter: SQLite's driver takes neither Decimal nor date."""
    if connection.vendor == "postgresql" or value is None:
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _update_many(model, key: str, names: list[str], rows: list[tuple]) -> None:
    """UPDATE … SET names WHERE key = …, for (key value, row) pairs: one statement run many
    times (pipelined by psycopg), not the CASE expressions bulk_update builds (slow in Python)."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        _update_from_values(model, key, names, rows)
        return
    columns = ", ".join(f"{model._meta.get_field(n).column} = %s" for n in names)
    sql = f"UPDATE {model._meta.db_table} SET {columns} WHERE {model._meta.get_field(key).column} = %s"
    with connection.cursor() as cursor:
        cursor.executemany(sql, [[_adapted(getattr(row, n)) for n in names] + [pk] for pk, row in rows])


def _update_from_values(model, key: str, names: list[str], rows: list[tuple]) -> None:
    """PostgreSQL: one UPDATE … FROM (VALUES …) per chunk. Each statement run alone costs a parse,
    a bind and an execution on the server; a change's few hundred moved rows cost one of each."""
    fields = [model._meta.get_field(n) for n in [key, *names]]
    casts = ", ".join(f"%s::{f.cast_db_type(connection)}" for f in fields)
    columns = [f.column for f in fields]
    assign = ", ".join(f"{c} = v.{c}" for c in columns[1:])
    table = model._meta.db_table
    for part in _chunks(rows, 500):
        values = ", ".join([f"({casts})"] * len(part))
        params = [value for pk, row in part for value in (pk, *(getattr(row, n) for n in names))]
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} AS t SET {assign} FROM (VALUES {values}) AS v({', '.join(columns)}) "
                           f"WHERE t.{columns[0]} = v.{columns[0]}", params)


def update_objects(model, names: list[str], objects: list) -> None:
    """Write these fields of these model instances (values prepared as `save()` would): one
    statement, where bulk_update's CASE expressions cost a scan of a sync page 40 % of its time."""
    fields = [model._meta.get_field(n) for n in names]
    _update_many(model, "id", names, [
        (obj.pk, SimpleNamespace(**{f.name: f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields}))
        for obj in objects])


def update_lines(rows: list[tuple[int, LineRow]]) -> None:
    _update_many(LineFact, "id", facts.LINE_DERIVED, rows)


def update_invoices(rows: list[InvoiceRow]) -> None:
    _update_many(InvoiceFact, "invoice", facts.INVOICE_DERIVED, [(row.invoice_id, row) for row in rows])


# --- slices around a change (the incremental scan reads no more than it needs) ----------------
#
# Plain SQL: a change reaches a dozen slices, and building a dozen ORM querysets costs more than
# running them. Each slice is a sub-select (ORDER BY and LIMIT inside), joined by UNION ALL, one
# round trip; written so that PostgreSQL and SQLite both accept it.


def _reader(model, names: list[str]):
    """A function turning a raw row into Python values: SQLite hands back floats and text for
    decimals and dates, PostgreSQL the right types already."""
    if connection.vendor == "postgresql":
        return lambda row: row
    kinds = [model._meta.get_field(n).get_internal_type() for n in names]

    def read(row):
        values = []
        for kind, value in zip(kinds, row):
            if value is not None and kind == "DecimalField" and not isinstance(value, Decimal):
                value = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
            elif value is not None and kind == "DateField" and isinstance(value, str):
                value = datetime.date.fromisoformat(value)
            elif kind == "BooleanField" and value is not None:
                value = bool(value)
            values.append(value)
        return values

    return read


def _slices(model, company_id: int, names: list[str], group_columns: list[str], anchors: Iterable[tuple],
            k: int) -> list[list]:
    """Rows of `model` within k ranks either side of each anchor (group values…, rank)."""
    if connection.vendor == "postgresql":
        return _slices_lateral(model, company_id, names, group_columns, anchors, k)
    table = model._meta.db_table
    columns = ", ".join(model._meta.get_field(n).column for n in names)
    where = " AND ".join(f"{c} = %s" for c in ["company_id", *group_columns])
    read = _reader(model, names)
    found = []
    for chunk in _chunks(sorted(set(anchors)), SLICES_PER_QUERY):
        parts, params = [], []
        for n, (*group, rank) in enumerate(chunk):
            for side, (op, order) in enumerate((("<", "DESC"), (">=", "ASC"))):
                parts.append(f"SELECT * FROM (SELECT {columns} FROM {table} WHERE {where} AND rank {op} %s "
                             f"ORDER BY rank {order} LIMIT {int(k)}) AS s{n}_{side}")
                params += [company_id, *group, rank]
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(parts), params)
            found += [read(row) for row in cursor.fetchall()]
    return found


def _slices_lateral(model, company_id: int, names: list[str], group_columns: list[str], anchors: Iterable[tuple],
                    k: int) -> list[list]:
    """PostgreSQL: the anchors as a VALUES list joined LATERAL to the two index scans of each. A
    UNION of a sub-select per anchor makes the planner's work grow with the anchors (150 ms for a
    sync page of 30 invoices); this plan is one nested loop whatever their number."""
    table = model._meta.db_table
    columns = ", ".join(f"t.{model._meta.get_field(n).column}" for n in names)
    keys = [f"a{n}" for n in range(len(group_columns))]
    match = " AND ".join(f"t.{c} = a.{a}" for c, a in zip(group_columns, keys))
    found = []
    for chunk in _chunks(sorted(set(anchors)), CHUNK):
        values = ", ".join(["(" + ", ".join(["%s::text"] * (len(keys) + 1)) + ")"] * len(chunk))
        side = (f"(SELECT {columns} FROM {table} AS t WHERE t.company_id = %s AND {match} AND t.rank {{op}} a.r "
                f"ORDER BY t.rank {{order}} LIMIT {int(k)})")
        sql = (f"SELECT s.* FROM (VALUES {values}) AS a({', '.join(keys)}, r) CROSS JOIN LATERAL ("
               f"{side.format(op='<', order='DESC')} UNION ALL {side.format(op='>=', order='ASC')}) AS s")
        params = [value for anchor in chunk for value in anchor] + [company_id, company_id]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found += [list(row) for row in cursor.fetchall()]
    return found


def line_slices(company_id: int, anchors: Iterable[tuple[str, str, str]], k: int) -> list[tuple[int, LineRow]]:
    """The k line facts either side of each (client, item, rank), in that client's history of the item."""
    names = ["id", *facts.LINE_FIELDS]
    unique = {row[0]: row for row in _slices(LineFact, company_id, names, ["client", "item"], anchors, k)}
    return [(pk, LineRow(*row[1:])) for pk, row in unique.items()]


def invoice_slices(company_id: int, anchors: Iterable[tuple[str, str]], k: int) -> list[InvoiceRow]:
    """The k invoice facts either side of each (client, rank), among that client's invoices."""
    names = ["invoice", *facts.INVOICE_FIELDS[1:]]
    unique = {row[0]: row for row in _slices(InvoiceFact, company_id, names, ["client"], anchors, k)}
    return [InvoiceRow(*row) for row in unique.values()]


def take_facts(company_id: int, invoice_ids: list[int]) -> tuple[list[LineRow], list[InvoiceRow]]:
    """Delete the facts of these invoices and return them (DELETE … RETURNING: one trip each)."""
    found = []
    for model, names in ((LineFact, facts.LINE_FIELDS), (InvoiceFact, ["invoice", *facts.INVOICE_FIELDS[1:]])):
        columns = ", ".join(model._meta.get_field(n).column for n in names)
        marks = ", ".join(["%s"] * len(invoice_ids))
        read = _reader(model, names)
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE company_id = %s AND invoice_id IN ({marks}) "
                           f"RETURNING {columns}", [company_id, *invoice_ids])
            found.append([read(row) for row in cursor.fetchall()])
    return [LineRow(*row) for row in found[0]], [InvoiceRow(*row) for row in found[1]]
