"""Properties of the edit flow (hypothesis): the form round trip is lossless, an edit changes
exactly what was typed, line operations keep every other value as Alegra wrote it, saved totals
are Alegra's, and no form post, however malformed, gives a server error."""

import copy
from decimal import Decimal

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from approvals import documents, lines
from approvals.forms import data as form_data
from approvals.forms import edit as edit_forms
from approvals.forms import fields
from approvals.models import ChangeRequest
from approvals.services import proposals
from approvals.services import requests as services
from invoices import arithmetic, diff
from tests.factories.edit import (
    make_invoice,
    mirror_catalogue,
)
from tests.documents.strategies import TAXES, decimals, invoices, respelled

PURE = settings(max_examples=60, deadline=None)
WITH_DB = settings(max_examples=30, deadline=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def bind(base: dict, data) -> dict:
    """What the edit view does with a post: parse, then build the proposed document."""
    header = edit_forms.InvoiceHeaderForm(data, base=base)
    lines = edit_forms.LineFormSet(data, prefix=edit_forms.LINE_PREFIX)
    assert header.is_valid(), header.errors
    assert lines.is_valid(), (lines.errors, lines.non_form_errors())
    return documents.proposed_invoice(base, header.cleaned_data,
                                       [form.cleaned_data for form in lines.forms], TAXES)


def opened(base: dict):
    return form_data.form_data(form_data.header_initial(base),
                                form_data.document_lines_raw(base, origins=True),
                                {"base_hash": "h", "reason": ""})


@st.composite
def any_invoice(draw):
    return draw(respelled(draw(invoices())))


@PURE
@given(any_invoice())
def test_posting_the_form_back_unchanged_changes_nothing(base):
    proposed = bind(base, opened(base))
    assert not diff.diff_documents(base, proposed).has_changes
    without_totals = [{k: v for k, v in line.items() if k != "total"} for line in base["items"]]
    assert proposed["items"] == without_totals  # every value kept exactly as it was written


@PURE
@given(any_invoice(), st.data())
def test_an_edit_changes_exactly_what_was_typed(base, data):
    index = data.draw(st.integers(0, len(base["items"]) - 1))
    typed = {
        "price": data.draw(st.one_of(st.none(), decimals(100_000, 6))),
        "quantity": data.draw(st.one_of(st.none(), decimals(50, 2, 1))),
        "discount": data.draw(st.one_of(st.none(), decimals(100, 2))),
    }
    form = opened(base)
    for name, value in typed.items():
        if value is not None:
            form[f"lines-{index}-{name}"] = format(value, "f")
    proposed = bind(base, form)
    line = base["items"][index]
    expected = {f"items.{name}" for name, value in typed.items()
                if value is not None and value != arithmetic.to_decimal(line.get(name))}
    assert diff.diff_documents(base, proposed).changed_fields == expected
    for name, value in typed.items():
        if value is not None:
            assert arithmetic.to_decimal(proposed["items"][index][name]) == value


@PURE
@given(any_invoice(), st.lists(st.tuples(st.sampled_from(["up", "down", "remove"]), st.integers(0, 5)),
                               max_size=6))
def test_line_operations_move_lines_and_keep_their_values(base, operations):
    rows = form_data.document_lines_raw(base, origins=True)
    expected = [{k: v for k, v in line.items() if k != "total"} for line in base["items"]]
    for name, index in operations:
        rows, _header = _apply(f"{name}:{index}", rows)
        if name == "remove" and index < len(expected):
            expected.pop(index)
        elif name == "up" and 0 < index < len(expected):
            expected[index - 1], expected[index] = expected[index], expected[index - 1]
        elif name == "down" and index < len(expected) - 1:
            expected[index + 1], expected[index] = expected[index], expected[index + 1]
    data = form_data.form_data(form_data.header_initial(base), rows, {"base_hash": "h"})
    assert bind(base, data)["items"] == expected


def _apply(op, rows):
    name, arg = lines.parse_op(op)
    return lines.apply_op(name, arg, rows)


@pytest.mark.django_db
@WITH_DB
@given(st.lists(st.tuples(decimals(5_000, 6), decimals(20, 2, 1), decimals(100, 2),
                          st.lists(st.sampled_from(["3", "4", "5"]), max_size=2, unique=True)),
                min_size=1, max_size=4))
def test_a_saved_draft_carries_alegras_totals(company, accountant, lines):
    mirror_catalogue(company)
    invoice = make_invoice(company)
    ChangeRequest.objects.filter(invoice=invoice).delete()
    catalogue = proposals.catalogue_taxes(company)
    form = form_data.form_data(
        form_data.header_initial(invoice.document),
        [{"origin": "", "item": str(n + 1), "name": "x", "description": "", "reference": "",
          "price": format(price, "f"), "quantity": format(quantity, "f"),
          "discount": format(discount, "f"), "tax": taxes}
         for n, (price, quantity, discount, taxes) in enumerate(lines)])
    header = edit_forms.InvoiceHeaderForm(form, base=invoice.document)
    formset = edit_forms.LineFormSet(form, prefix=edit_forms.LINE_PREFIX)
    assert header.is_valid() and formset.is_valid()
    proposed = documents.proposed_invoice(invoice.document, header.cleaned_data,
                                           [f.cleaned_data for f in formset.forms], catalogue)
    saved = services.request_save_draft(invoice=invoice, user=accountant, proposed=proposed,
                                        reason="", kind="update")
    totals = arithmetic.invoice_totals(saved.proposed_document)
    saved.refresh_from_db()
    assert saved.new_total == totals.total
    assert saved.proposed_document["total"] == arithmetic.format_amount(totals.total, 2)
    # the oracle: each line rounds once at the end, taxes on the discounted base
    exact = sum((p * q * (100 - d) / 100 * (100 + sum(Decimal(catalogue[t]["percentage"]) for t in ts)) / 100
                 for p, q, d, ts in lines), Decimal(0))
    assert abs(totals.total - exact) <= Decimal("0.015") * (1 + 2 * len(lines))


# --- fuzzed posts never give a server error ------------------------------------------------

HEADER = ["base_hash", "date", "dueDate", "client", "paymentForm", "paymentMethod", "seller",
          "priceList", "observations", "anotation", "termsConditions", "reason", "kind"]
LINE = ["origin", "item", "name", "description", "reference", "price", "quantity", "discount", "tax"]
NASTY = ["", " ", "0", "-1", "1e999999", "NaN", "-Infinity", "sNaN", "0E-999999", "12,5", "1.2.3",
         "999999999999999", "1e14", "٣", "１２", "\x00", "3" * 45, "2026-02-30", "2026-10-12",
         "CASH", "TRANSFER", "PRICE_ADJUSTMENT", "credit_note", "update", "contact", "1", "3", "99"]
OPS = ["add:1", "add:5", "add:", "add:x" * 20, "remove:0", "remove:99999999999999999999", "up:1",
       "up:-1", "down:0", "client:2", "client:", "rebase", "search", "nonsense", "up:abc"]
values = st.one_of(st.sampled_from(NASTY), st.text(max_size=20), st.decimals(allow_nan=True).map(str))
keys = st.one_of(
    st.sampled_from(HEADER + ["op", "action", "item_q", "client_q"]),
    st.builds(lambda i, f: f"lines-{i}-{f}", st.integers(-1, 3), st.sampled_from(LINE)),
    st.builds(lambda i, f: f"credit-{i}-{f}", st.integers(-1, 2), st.sampled_from(["quantity", "price"])),
    st.sampled_from(["lines-TOTAL_FORMS", "lines-INITIAL_FORMS", "type", "cause", "email", "city"]),
    st.text(max_size=8),
)
specials = {"op": st.sampled_from(OPS), "action": st.sampled_from(["draft", "submit", "x"]),
            "lines-TOTAL_FORMS": st.sampled_from(["0", "1", "2", "4", "-1", "abc", ""])}


@st.composite
def posts(draw, start: dict | None = None):
    data = dict(start or {})
    for key in draw(st.lists(keys, max_size=14)):
        strategy = specials.get(key, values)
        data[key] = draw(st.one_of(strategy, st.lists(strategy, max_size=3)))
    for key in ("op", "action"):
        choice = draw(st.one_of(st.none(), specials[key]))
        if choice is not None:
            data[key] = choice
    return data


@pytest.fixture
def fuzz_setup(company, accountant, client):
    mirror_catalogue(company)
    open_invoice = make_invoice(company, number=1)
    stamped = make_invoice(company, number=2, stamped=True)
    client.force_login(accountant)
    base_form = {k: v for k, v in opened(open_invoice.document).lists()}
    base_form["base_hash"] = open_invoice.content_hash
    return client, open_invoice, stamped, base_form


def _never_500(client, url, data, htmx):
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client.post(url, data, **extra)
    assert response.status_code in (200, 302, 400, 404), (response.status_code, data)


@pytest.mark.django_db
@WITH_DB
@given(data=st.data(), htmx=st.booleans())
def test_fuzzed_posts_to_the_editor_never_fail(fuzz_setup, data, htmx):
    client, invoice, stamped, base_form = fuzz_setup
    start = data.draw(st.sampled_from([{}, base_form]))
    post = data.draw(posts(start))
    target = data.draw(st.sampled_from([invoice, stamped]))
    args = [target.company_id, target.pk]
    _never_500(client, reverse("approvals:invoice_edit_recompute", args=args), post, htmx=True)
    _never_500(client, reverse("approvals:invoice_edit", args=args), post, htmx=htmx)
    ChangeRequest.objects.all().delete()  # each example starts with no open request


@pytest.mark.django_db
@WITH_DB
@given(data=st.data())
def test_fuzzed_posts_to_the_contact_update_never_fail(fuzz_setup, data):
    client, invoice, _stamped, _base_form = fuzz_setup
    post = data.draw(posts())
    _never_500(client, reverse("approvals:invoice_contact_edit", args=[invoice.company_id, invoice.pk]),
               post, htmx=data.draw(st.booleans()))
    ChangeRequest.objects.all().delete()


@pytest.mark.django_db
def test_the_largest_form_is_answered_not_crashed(fuzz_setup):
    client, invoice, _stamped, base_form = fuzz_setup
    post = {**base_form, "lines-TOTAL_FORMS": "99999999999999999999", "op": "up:1999"}
    response = client.post(reverse("approvals:invoice_edit_recompute", args=[invoice.company_id, invoice.pk]),
                           post, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.content.decode().count('name="lines-1999-item"') == 1


def test_decimal_text_parses_exactly_and_refuses_what_is_not_a_number():
    field = fields.DecimalText(required=False)
    assert field.clean("16746.218487") == Decimal("16746.218487")
    assert field.clean(" 12,5 ") == Decimal("12.5")
    # As a Colombian writes them: "." groups thousands, "," marks the decimals.
    assert field.clean("6.500,50") == Decimal("6500.50")
    assert field.clean("1.234.567") == Decimal("1234567")
    assert field.clean("6.500") == Decimal("6500")
    assert field.clean("0.001") == Decimal("0.001")
    for bad in ["NaN", "Infinity", "1e999999", "0E-999999", "abc", "1.2.3", "6.50,0", "1,2,3", "1e-13",
                "9" * 41, "0,0000000000001"]:
        with pytest.raises(Exception) as refused:
            field.clean(bad)
        assert refused.type.__name__ == "ValidationError"
    assert copy.deepcopy(field.clean("")) is None


def test_the_approver_sees_a_withholding_move_with_the_lines():
    from approvals.presenters import diff_of

    base = {"decimalPrecision": "2", "items": [{"id": 1, "price": "1000", "quantity": "1", "discount": "0", "tax": []}],
            "retentions": [{"id": "1", "name": "Retefuente", "percentage": "2.5", "type": "FUENTE", "amount": "25.00"}]}
    proposed = {**base, "items": [{**base["items"][0], "price": "2000"}]}
    view = diff_of(base, proposed)
    rows = {row.label: (row.before, row.after) for row in view.totals}
    assert rows["Withholding Retefuente 2.5 %"] == (Decimal("25.00"), Decimal("50.00"))
    assert "retentions" not in {row.field for row in view.header}  # the same retention, a new amount
