"""The invoice list's count, totals and search are served by their indexes on PostgreSQL.

The queries checked are the very ones the list page sends (captured from a request), explained
with sequential scans priced out of reach: a plan that still reads the invoice table from end
to end, or that walks some other index instead of the one meant for the query, has no index
that can answer it.
"""

import json
import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from invoices import mirror
from invoices.models import Invoice
from invoices.queries import encode_cursor
from invoices.sync import invoice_store
from tests.invoices.docs import invoice_doc

pytestmark = [
    # Committed rows, so that VACUUM can mark the table's pages all-visible as autovacuum would.
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the indexes exist on PostgreSQL only"),
]

TABLE = "invoices_invoice"


def _plan_nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", ()):
        yield from _plan_nodes(child)


def _plan(sql: str, off: tuple[str, ...] = ("enable_seqscan",)) -> dict:
    """The planner's plan of a statement, with the ways of reading named in `off` made prohibitive."""
    with transaction.atomic(), connection.cursor() as cursor:
        for setting in off:
            cursor.execute(f"SET LOCAL {setting} = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        raw = cursor.fetchone()[0]
    return (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]


def _invoice_scans(sql: str) -> list[dict]:
    """The plan nodes that read the invoice table, with sequential scans made prohibitive."""
    return [node for node in _plan_nodes(_plan(sql)) if node.get("Relation Name") == TABLE
            or (node.get("Node Type") == "Bitmap Index Scan" and node.get("Index Name", "").startswith("invoice"))]


def _list_queries(client, company, query: str) -> list[str]:
    """The invoice table's queries of the list page and of the summary it asks for."""
    with CaptureQueriesContext(connection) as ctx:
        for name in ("invoices:invoice_list", "invoices:invoice_list_summary"):
            assert client.get(reverse(name, args=[company.pk]) + query).status_code == 200
    # A search asks the planner for its estimates first (EXPLAIN, nothing read): not a query of rows.
    return [q["sql"] for q in ctx.captured_queries
            if f'FROM "{TABLE}"' in q["sql"] and not q["sql"].startswith("EXPLAIN")]


STATUSES = ("open", "open", "paid", "paid", "paid", "void", "draft")


@pytest.fixture
def listed(client, company, accountant):
    for n in range(1, 41):
        invoice_store(company=company, document=invoice_doc(n), source="sync")
    # Enough rows, of several statuses and clients, for the planner's estimates to mean something
    # (written straight to the table: what is tested is how rows are found, not their history).
    bodies = []
    for n in range(41, 6041):
        body = mirror.canonical(invoice_doc(n, status=STATUSES[n % len(STATUSES)]))
        body["client"]["name"] = f"Distribuidora {n % 997} Ltda."
        body["client"]["identification"] = str(800_000_000 + n % 1500)
        bodies.append(body)
    _written(company, bodies)
    client.force_login(accountant)
    client.get(reverse("invoices:invoice_list", args=[company.pk]))  # remembers the company
    return client


def _written(company, bodies: list[dict]) -> None:
    bulk = []
    for body in bodies:
        columns = mirror.invoice_columns(body)
        bulk.append(Invoice(company=company, document=body, content_hash=mirror.content_hash(body),
                            id_sort=mirror.id_sort_key(columns["alegra_id"]), **columns))
    Invoice.objects.bulk_create(bulk, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {TABLE}")


def _summary_sql(queries: list[str]) -> str:
    [summary] = [sql for sql in queries if "COUNT(*)" in sql]
    return summary


def test_count_and_totals_read_the_covering_index(listed, company):
    from invoices.queries import invoice_page

    cursor = invoice_page(company, {}, counted=False).next_cursor  # past the first page: rows after it counted
    for query in ("", "?status=open", "?due=overdue", "?balance=yes&status=open", f"?after={cursor}"):
        scans = _invoice_scans(_summary_sql(_list_queries(listed, company, query)))
        assert scans, query
        assert all(node["Node Type"] != "Seq Scan" for node in scans), (query, scans)
        assert {(node["Node Type"], node.get("Index Name")) for node in scans} == {
            ("Index Only Scan", "invoice_summary")}, (query, scans)


def test_search_by_name_or_number_fragment_uses_the_trigram_indexes(listed, company):
    for fragment in ("FE1", "buidora 12", "0417"):
        queries = _list_queries(listed, company, f"?q={fragment}")
        for sql in queries:
            scans = _invoice_scans(sql)
            assert all(node["Node Type"] != "Seq Scan" for node in scans), (fragment, sql, scans)
        used = {node.get("Index Name") for node in _invoice_scans(_summary_sql(queries))}
        assert {"invoice_number_trgm", "invoice_client_name_trgm", "invoice_by_identification"} <= used, (
            fragment, used)


def test_a_search_too_short_for_the_trigrams_reads_the_narrow_index_alone(listed, company):
    """One or two characters: the page's ids, and its count and totals, from the narrow indexes
    without a row fetched to be tested (each rare fragment read the whole company, 60-70 ms at
    100,000 invoices). The page in the list's own order reads `invoice_short_search_page`, which
    carries the search text alone (0011); with a filter or another order, and for the count and
    totals, `invoice_short_search`, which carries the sort keys and the amounts too. A common
    fragment may walk the list's order first, a bounded number of rows."""
    from invoices.queries import WALK_MAX

    cases = [(f"?q={fragment}", "invoice_short_search_page") for fragment in ("X", "q7", "E1", "9")]
    cases += [("?q=q7&status=open", "invoice_short_search"), ("?q=X&sort=-number", "invoice_short_search")]
    for query, index in cases:
        queries = _list_queries(listed, company, query)
        summary = _summary_sql(queries)
        walks = [sql for sql in queries if " walk WHERE walk.hit" in sql]
        for walk in walks:
            assert int(re.search(r"LIMIT (\d+)\) walk WHERE", walk).group(1)) <= WALK_MAX, walk
        pages = [sql for sql in queries if sql != summary and sql not in walks]
        assert len(pages) + len(walks) in (1, 2), queries
        if "q=X" in query or "q=q7" in query:
            assert not walks and len(pages) == 1, (query, queries)  # rare: gathered at once
        for page in pages:
            page_scans = {(node["Node Type"], node.get("Index Name")) for node in _invoice_scans(page)}
            assert ("Index Only Scan", index) in page_scans, (query, page_scans)
            # The rows themselves are then read by id, 51 at most.
            assert page_scans <= {("Index Only Scan", index), ("Index Scan", "invoices_invoice_pkey"),
                                  ("Bitmap Heap Scan", None), ("Bitmap Index Scan", "invoices_invoice_pkey")}, page_scans
        assert {(node["Node Type"], node.get("Index Name")) for node in _invoice_scans(summary)} == {
            ("Index Only Scan", "invoice_short_search")}, query


def _rows_read(sql: str) -> int:
    """Rows of the invoice table a statement read: those it kept and those it tested and dropped."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
        raw = cursor.fetchone()[0]
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    return sum((node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
                + node.get("Rows Removed by Index Recheck", 0)) * node.get("Actual Loops", 1)
               for node in _plan_nodes(plan) if node.get("Relation Name") == TABLE)


def test_a_search_whose_matches_lie_at_the_far_end_of_the_order_does_not_read_the_company(listed, company):
    """"FE1" sorted by number, high to low: its 1,111 matches are the lowest numbers. Walking the
    number index from the top tested the 4,041 invoices FE6040…FE2000 first (at 100,000 invoices,
    65 ms); the matches are gathered and sorted instead."""
    for fragment in ("FE1", "fe1"):
        queries = _list_queries(listed, company, f"?q={fragment}&sort=-number")
        page = [sql for sql in queries if sql != _summary_sql(queries)]
        read = sum(_rows_read(sql) for sql in page)
        assert 1_111 <= read < 2_000, (fragment, read, page)


@pytest.mark.parametrize("sort", ["-date", "date", "-number", "number", "-total", "total"])
def test_a_search_finds_the_same_page_whichever_way_it_reads(listed, company, sort):
    """Gathered at once (rare), walked (common), or walked and then gathered (common, at the far
    end of the order): each page is the plain query's page, and the next one follows it."""
    from invoices.queries import _order, filtered, invoice_page

    # 3,000 invoices of the lowest numbers change client: a common match at the end of "-number".
    Invoice.objects.filter(company=company, number_sort__lte=mirror.number_sort_key("FE3000")).update(
        client_name="Comercializadora Antigua S.A.S.")
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {TABLE}")
    for fragment in ("FE1", "E1", "9", "X", "buidora 12", "buidora", "Antigua", "0417", "800000417"):
        data = {"q": fragment, "sort": sort}
        _key, column, descending = _order(data)
        order = [f"-{column}", "-id"] if descending else [column, "id"]
        expected = list(filtered(company, data).order_by(*order).values_list("pk", flat=True)[:100])
        first = invoice_page(company, data, counted=False)
        assert [row.pk for row in first.rows] == expected[:50], (fragment, sort)
        if first.next_cursor:
            second = invoice_page(company, {**data, "after": first.next_cursor}, counted=False)
            assert [row.pk for row in second.rows] == expected[50:100], (fragment, sort)


def test_the_search_still_finds_any_fragment(listed, company):
    """The indexes change how rows are found, not which: the middle of a number or a name."""
    from invoices.queries import invoice_page

    rows = list(Invoice.objects.filter(company=company).values_list("number", "client_name", "client_identification"))
    for fragment in ("E1", "fe40", "buidora 12", "800000417", "ZZZ"):
        expected = sum(1 for number, name, identification in rows if fragment.upper() in number.upper()
                       or fragment.upper() in name.upper() or identification == fragment)
        assert invoice_page(company, {"q": fragment}).count == expected, fragment
    assert invoice_page(company, {"q": "fe40"}).count == 1 + 10 + 100  # FE40, FE400…FE409, FE4000…FE4099


def test_the_search_expressions_keep_a_fine_sample_for_the_planner():
    """A rare fragment estimated from the default sample was sometimes taken for a common one,
    and the list walked every invoice of the company by date (70-140 ms instead of 2). The
    expression is the indexes' second column, after the company (0010)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname, a.attnum, a.attstattarget FROM pg_attribute a "
                       "JOIN pg_class c ON c.oid = a.attrelid "
                       "WHERE c.relname IN ('invoice_number_trgm', 'invoice_client_name_trgm') AND a.attnum > 0")
        targets = {(name, number): target for name, number, target in cursor.fetchall()}
    assert {key: target for key, target in targets.items() if key[1] == 2} == {
        ("invoice_number_trgm", 2): 1000, ("invoice_client_name_trgm", 2): 1000}, targets


def _trigram_conditions(client, company, query: str) -> dict[str, list[str]]:
    """The trigram index conditions of the list page's queries and of its summary's, the plans
    taken with the trigram indexes' bitmap scans the only way in, as on a large table."""
    queries = _list_queries(client, company, query)
    summary = _summary_sql(queries)
    found = {"page": [], "summary": []}
    for sql in queries:
        plan = _plan(sql, off=("enable_seqscan", "enable_indexscan", "enable_indexonlyscan"))
        found["summary" if sql == summary else "page"] += [
            node["Index Cond"] for node in _plan_nodes(plan)
            if node.get("Index Name") in ("invoice_number_trgm", "invoice_client_name_trgm")]
    return found


def test_the_trigram_indexes_give_only_the_searched_companys_matches(listed, company, other_company):
    """Another company of the firm numbers its invoices alike: its matches of "FE1" lie in the same
    trigram indexes. Keyed by company first (0010), they give only the searched company's own;
    before, every company's matches were read from the table and dropped but one company's (at
    1,000,000 invoices across 10 companies, 433 ms for a page of "FE1" by number)."""
    _written(other_company, [mirror.canonical(invoice_doc(n)) for n in range(1, 6041)])
    for query in ("?q=FE1", "?q=FE1&sort=-number"):
        found = _trigram_conditions(listed, company, query)
        assert found["page"] and found["summary"], (query, found)
        assert all(condition.startswith("((company_id = ") for condition in found["page"] + found["summary"]), (
            query, found)


def test_a_company_that_holds_the_table_has_its_matches_gathered_by_the_fragment_alone(listed, company):
    """Looking a company up in the trigram indexes costs about half a millisecond whatever the
    fragment when the company holds nearly every invoice (its entry lists them all): 0.57 against
    0.02 ms for '4521' at 100,000 invoices. With no other company's matches to keep out, a page's
    matches are gathered by the fragment alone; the count still names the company (it cannot tell
    beforehand)."""
    for query in ("?q=0417", "?q=FE1&sort=-number", "?q=buidora 12&sort=total"):
        found = _trigram_conditions(listed, company, query)
        assert found["page"] and found["summary"], (query, found)
        assert not any("company_id" in condition for condition in found["page"]), (query, found)
        assert all(condition.startswith("((company_id = ") for condition in found["summary"]), (query, found)


def _page_rows_read(client, company, query: str) -> int:
    queries = _list_queries(client, company, query)
    return sum(_rows_read(sql) for sql in queries if sql != _summary_sql(queries))


def test_a_later_page_starts_its_reading_at_its_cursor_both_ways(listed, company):
    """The page after a cursor, and the page before it (the list shows the way back), each read
    about their own rows: the cursor was a disjunction no index scan could start at, and a deep
    page of the list read every invoice before it twice (at 100,000 invoices, page 2 of "FE1" by
    number, high to low: 80,000 rows for its rows and 100,000 for the way back, 214 ms)."""
    from invoices.queries import _order, filtered

    deep = list(filtered(company, {}).order_by("-date", "-id").values_list("date", "pk")[3_000:3_001])[0]
    cursor = encode_cursor(*deep)
    assert _page_rows_read(listed, company, f"?after={cursor}") < 300  # two pages and the same-day invoices

    data = {"q": "FE1", "sort": "-number"}
    _key, column, _descending = _order(data)
    ranked = list(filtered(company, data).order_by(f"-{column}", "-id").values_list(column, "pk")[:101])
    for at in (49, 99):  # the second page, whose way back is the first page; the third
        query = f"?q=FE1&sort=-number&after={encode_cursor(*ranked[at])}"
        read = _page_rows_read(listed, company, query)
        # Each of the two gathers at most what the search's count reads (its 1,111 matches).
        assert read <= 2 * 1_111 + 2 * 60, (at, read)
        response = listed.get(reverse("invoices:invoice_list", args=[company.pk]) + query)
        assert response.context["page"].has_previous


def test_the_search_asks_its_estimates_one_statement_at_a_time_where_the_server_binds_parameters(listed, company):
    """The estimate and the table's count go in one round trip when Django binds the parameters
    (its default); a server that binds them (OPTIONS server_side_binding) takes one statement at a
    time, and the search must work there too."""
    import psycopg

    from invoices.queries import filtered, invoice_page

    expected = {fragment: list(filtered(company, {"q": fragment}).order_by("-date", "-id")
                               .values_list("pk", flat=True)[:50])
                for fragment in ("fe40", "800000417", "buidora 12", "FE1")}
    connection.close()
    connection.settings_dict["OPTIONS"]["server_side_binding"] = True
    try:
        with connection.cursor() as cursor:
            assert not isinstance(cursor.cursor, psycopg.ClientCursor)
        for fragment, pks in expected.items():
            assert pks, fragment  # a search that finds something, or the comparison says nothing
            assert [row.pk for row in invoice_page(company, {"q": fragment}, counted=False).rows] == pks, fragment
    finally:
        connection.close()
        del connection.settings_dict["OPTIONS"]["server_side_binding"]
