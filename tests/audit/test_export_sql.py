"""The audit export written by PostgreSQL (COPY) is, byte for byte, what the Python writer makes of the same rows."""

from __future__ import annotations

import datetime
import sys

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit import chain, export, export_sql, queries
from audit.models import Action, AuditEntry
from portal import events
from tests.factories.edit import make_invoice, mirror_catalogue

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")]
UTC = datetime.UTC

# Cells a CSV or JSON writer must take care with: separators, quotes, line ends, formula starts,
# blanks Python's strip() removes (and ones it keeps), accents, emoji, control characters.
AWKWARD = [
    "", "sencillo", "coma, dentro", 'comillas "dobles"', "línea\nnueva", "retorno\r\nwindows", "solo\rcr",
    "=1+1", "+57 300", "-5", "@usuario", "\tTab", "\rcr al inicio", " espacio ", "\u3000ideográfico\u3000",
    "\u00a0nbsp\u2007", "\u200bno es blanco\u200b", "ñandú · ü € ☃", "🙂 emoji", "'apóstrofo", "back\\slash",
    "\x01\x1fcontrol\x7f", "\x0bvt\x0c", "{no es json", '{"sin_code": 1}', '  {"code": "session.login"}  ',
    events.reason("session.login"), events.reason("session.login", via_token='ERP, "nocturno"'),
    events.reason("no.registrado", motivo="x\ny"), '{"code": 5}', "\\.", "null",
]


def python_written(fmt: str, company, filters: queries.Filters, labels, tell) -> str:
    """The export as the Python writer makes it, every cell (the times too) formatted in Python."""
    rows = queries.export_rows_python(company, filters)
    return "".join((export.csv_stream if fmt == "csv" else export.json_stream)(rows, labels, tell))


def database_written(fmt: str, company, filters: queries.Filters, labels, tell) -> str:
    return "".join((export_sql.csv_stream if fmt == "csv" else export_sql.json_stream)(company, filters, labels, tell))


def assert_same(company, filters: queries.Filters | None = None):
    filters = filters or queries.Filters()
    for language in ("es", "en"):
        with translation.override(language):
            labels = {value: str(label) for value, label in Action.choices}
            for fmt in ("csv", "json"):
                expected = python_written(fmt, company, filters, labels, export.teller())
                assert database_written(fmt, company, filters, labels, export.teller()) == expected, (language, fmt)


def awkward_entries(company) -> list[AuditEntry]:
    User = get_user_model()
    people = [User.objects.create_user(f"persona{n}", first_name=first, last_name=last)
              for n, (first, last) in enumerate(zip(AWKWARD, reversed(AWKWARD), strict=True))]
    people.append(User.objects.create_user("=sin nombre"))
    mirror_catalogue(company)
    invoice = make_invoice(company, number=1)
    odd = make_invoice(company, number=2)
    # A number and an id with a comma and a quote: only the export's quoting is under test here.
    type(odd).objects.filter(pk=odd.pk).update(number='FE,"2"', alegra_id="=2")
    actions = [*Action.values, "ya_no_existe"]
    start = datetime.datetime(2026, 3, 8, 5, 59, 59, 999999, tzinfo=UTC)  # New York's clocks go forward
    entries = []
    for n, text in enumerate(AWKWARD * 2):
        entries.append(AuditEntry(
            company=company, at=start + datetime.timedelta(minutes=37 * n, microseconds=n),
            actor=people[n % len(people)] if n % 5 else None, on_behalf_of=AWKWARD[(n * 7) % len(AWKWARD)],
            action=actions[n % len(actions)], invoice_id=[None, invoice.pk, odd.pk, 987654][n % 4],
            change_request_id=n if n % 3 else None, source="session", source_id=10_000 + n if n % 2 else None,
            why=text, what={"texto": AWKWARD[(n * 3) % len(AWKWARD)], "n": n, "lista": [text, None, True]},
        ))
    return chain.append(entries)


@pytest.mark.parametrize("zone", ["America/New_York", "America/St_Johns", "Asia/Kolkata", "UTC"])
def test_the_database_writes_the_export_the_python_writer_does(company, zone):
    company.time_zone = zone
    company.save()
    awkward_entries(company)
    assert_same(company)
    assert_same(company, queries.Filters(actor="system"))
    assert_same(company, queries.Filters(action="nothing_has_this_action"))  # the header alone, "[\n]\n"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12),
                      min_size=4, max_size=4))
def test_any_text_is_written_alike(company, texts):
    why, behalf, first, what = texts
    user = get_user_model().objects.create_user(f"u{AuditEntry.objects.count()}", first_name=first, last_name=why)
    chain.append([AuditEntry(company=company, at=datetime.datetime(2026, 5, 1, 12, tzinfo=UTC), actor=user,
                             on_behalf_of=behalf, action=Action.LOGIN, source="session", why=why,
                             what={what: what})])
    assert_same(company)


def test_the_whitespace_the_database_trims_is_python_s():
    assert export_sql.WHITESPACE == "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())


def test_a_download_stopped_halfway_leaves_the_connection_usable(company):
    chain.append([AuditEntry(company=company, at=datetime.datetime(2026, 5, 1, tzinfo=UTC), action=Action.LOGIN,
                             source="session", why=f"n{n}", what={}) for n in range(3 * export.BATCH)])
    stream = export_sql.csv_stream(company, queries.Filters(), {}, export.teller())
    assert next(stream).startswith("\ufeffseq,at_utc")
    assert next(stream).count("\r\n") >= export.BATCH
    stream.close()  # the reader went away halfway
    assert AuditEntry.objects.filter(company=company).count() >= 3 * export.BATCH
