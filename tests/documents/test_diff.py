import copy
import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invoices.diff import (
    DiffConflict,
    FieldChange,
    align_lines,
    apply_diff,
    changed_field_names,
    diff_documents,
    document_lines,
    normalise_header,
    normalise_line_field,
)
from invoices.editable import EDITABLE_HEADER_FIELDS
from tests.documents import fixtures
from tests.documents.strategies import TAXES, edits, invoices, lines, respelled


def _line(item_id, price="10", **extra):
    return {"id": item_id, "price": price, "quantity": "1.00", "discount": "0.00",
            "tax": [TAXES["3"]], "description": f"item {item_id}", **extra}


def _doc(*item_ids, **header):
    return {"id": "1", "date": "2024-03-10", "dueDate": "2024-03-10", "status": "open",
            "decimalPrecision": "0", "client": {"id": "1", "name": "cliente"},
            "observations": "", "items": [_line(i) for i in item_ids], **header}


def test_identical_documents_have_no_changes():
    doc = fixtures.simple_invoice()
    result = diff_documents(doc, copy.deepcopy(doc))
    assert not result.has_changes
    assert result.header == [] and result.changed_fields == set()
    assert [line.kind for line in result.lines] == ["same", "same"]
    assert result.impact.old_total == result.impact.new_total == 139
    assert result.impact.difference == 0


def test_values_are_compared_after_normalisation():
    before = fixtures.simple_invoice()
    after = copy.deepcopy(before)
    after["items"][0].update(price="40.000", quantity=1, discount="", id="1")
    after["items"][1]["tax"] = [{"id": 3, "name": "IVA", "percentage": "16"}]
    after["client"] = {"id": 1}
    after["observations"] = None
    after["priceList"] = "1"
    after["total"] = "139.00"
    assert not diff_documents(before, after).has_changes


def test_only_the_observations_changed():
    before = fixtures.simple_invoice()
    after = fixtures.load("recorded-update_invoice.json")
    result = diff_documents(before, after)
    assert result.header == [FieldChange("observations", "", "This invoice has been updated!")]
    assert changed_field_names(before, after) == {"observations"}
    assert not result.lines_changed
    assert result.impact.difference == 0


def test_a_changed_price_names_the_line_fields_and_the_money_impact():
    before = fixtures.simple_invoice()
    after = copy.deepcopy(before)
    after["items"][1]["price"] = "70"
    result = diff_documents(before, after)
    first, second = result.lines
    assert first.kind == "same" and second.kind == "changed"
    assert second.field_names() == {"price", "total"}
    assert [(c.field, c.before, c.after) for c in second.fields] == [
        ("price", 80, "70"), ("total", Decimal(93), Decimal(81))]
    assert (second.before_index, second.after_index) == (1, 1)
    assert result.changed_fields == {"items.price"}
    assert (result.impact.old_total, result.impact.new_total) == (139, 128)
    assert result.impact.difference == -11


def test_header_changes_in_reading_order_with_raw_values():
    before = _doc(1, seller=None, priceList={"id": "1", "name": "General"})
    after = _doc(1, seller={"id": "2", "name": "Ana"}, priceList={"id": "1", "name": "General"},
                 dueDate="2024-04-10", client={"id": "9", "name": "Otro"}, cfdiUse="G03")
    result = diff_documents(before, after)
    assert [c.field for c in result.header] == ["dueDate", "client", "seller", "cfdiUse"]
    assert result.header[1] == FieldChange("client", {"id": "1", "name": "cliente"},
                                           {"id": "9", "name": "Otro"})


def test_a_line_inserted_in_the_middle_is_one_added_line():
    before = _doc(1, 2, 3, 4)
    after = _doc(1, 2, 9, 3, 4)
    result = diff_documents(before, after)
    assert [line.kind for line in result.lines] == ["same", "same", "added", "same", "same"]
    added = result.lines[2]
    assert added.after["id"] == 9 and added.after_index == 2 and added.before is None
    assert result.changed_fields == {"items.added"}
    assert result.impact.difference == 12  # 10 + 16 % IVA, rounded


def test_a_removed_line_and_a_changed_one():
    before = _doc(1, 2, 3)
    after = _doc(1, 3)
    after["items"][1]["quantity"] = "2"
    result = diff_documents(before, after)
    assert [(line.kind, line.before_index, line.after_index) for line in result.lines] == [
        ("same", 0, 0), ("removed", 1, None), ("changed", 2, 1)]
    assert result.changed_fields == {"items.removed", "items.quantity"}


def test_another_item_at_the_same_position_is_removed_and_added():
    result = diff_documents(_doc(1, 2), _doc(1, 5))
    assert [line.kind for line in result.lines] == ["same", "removed", "added"]


def test_tax_set_order_does_not_matter_but_membership_does():
    before = _doc(1)
    before["items"][0]["tax"] = [TAXES["3"], TAXES["2"]]
    reordered = _doc(1)
    reordered["items"][0]["tax"] = [{"id": 2}, {"id": "3"}]
    assert not diff_documents(before, reordered).lines_changed
    assert not diff_documents(before, reordered, TAXES).lines_changed
    fewer = _doc(1)
    fewer["items"][0]["tax"] = [{"id": "2"}]
    (line,) = diff_documents(before, fewer, TAXES).lines
    assert line.field_names() == {"tax", "total"}


def test_description_and_reference_changes_keep_the_total():
    before = _doc(1)
    after = _doc(1)
    after["items"][0].update(description="otro", reference="R-9")
    (line,) = diff_documents(before, after).lines
    assert line.field_names() == {"description", "reference"}
    assert diff_documents(before, after).changed_fields == {"items.description",
                                                            "items.reference"}


def test_malformed_values_still_diff_and_leave_no_impact():
    before = _doc(1)
    after = _doc(1)
    after["items"][0]["price"] = "abc"
    result = diff_documents(before, after)
    assert result.lines[0].field_names() == {"price"}
    assert result.impact is None


def test_floats_are_refused():
    after = _doc(1)
    after["items"][0]["price"] = 10.5
    with pytest.raises(TypeError):
        diff_documents(_doc(1), after)


def test_normalised_line_values():
    assert normalise_line_field("price", "1.00") == normalise_line_field("price", 1)
    assert normalise_line_field("discount", "") == normalise_line_field("discount", "0")
    assert normalise_line_field("description", None) == normalise_line_field("description", "")


# --- applying a diff --------------------------------------------------------------


def test_apply_onto_a_newer_version_carries_the_edit_over():
    base = _doc(1, 2)
    proposed = copy.deepcopy(base)
    proposed["items"][1]["price"] = "20"
    remote = copy.deepcopy(base)
    remote["observations"] = "changed in Alegra"
    remote["items"][0]["description"] = "renamed in Alegra"
    merged = apply_diff(remote, diff_documents(base, proposed))
    assert merged["observations"] == "changed in Alegra"
    assert merged["items"][0]["description"] == "renamed in Alegra"
    assert merged["items"][1]["price"] == "20"


def test_apply_onto_a_version_that_changed_the_same_field_is_a_conflict():
    base = _doc(1, 2)
    proposed = copy.deepcopy(base)
    proposed["items"][1]["price"] = "20"
    proposed["dueDate"] = "2024-05-01"
    remote = copy.deepcopy(base)
    remote["items"][1]["price"] = "30"
    remote["dueDate"] = "2024-06-01"
    with pytest.raises(DiffConflict) as error:
        apply_diff(remote, diff_documents(base, proposed))
    assert error.value.fields == ["dueDate", "items[1].price"]


def test_apply_onto_a_version_with_other_lines_is_a_conflict():
    base = _doc(1, 2)
    proposed = _doc(1, 2, 3)
    with pytest.raises(DiffConflict):
        apply_diff(_doc(1), diff_documents(base, proposed))
    with pytest.raises(DiffConflict):
        apply_diff(_doc(1, 4), diff_documents(base, proposed))


def test_apply_is_idempotent_when_the_target_already_holds_the_change():
    base = _doc(1)
    proposed = _doc(1, observations="nota")
    proposed["items"][0]["price"] = "12"
    assert apply_diff(proposed, diff_documents(base, proposed)) == proposed


EDITABLE_LINE_FIELDS = ("id", "price", "quantity", "discount", "tax", "description", "reference")


def _editable_view(doc: dict) -> dict:
    """Editable fields, normalised the way the diff compares them."""
    return {
        **{name: normalise_header(name, doc.get(name)) for name in EDITABLE_HEADER_FIELDS},
        "items": [
            {name: (str(line.get(name)) if name == "id" else normalise_line_field(name, line.get(name)))
             for name in EDITABLE_LINE_FIELDS}
            for line in doc.get("items") or ()
        ],
    }


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_applying_the_diff_to_the_base_gives_the_proposed_document(data):
    base = data.draw(invoices())
    proposed = data.draw(edits(base))
    if data.draw(st.booleans()):
        proposed = data.draw(respelled(proposed))
    result = diff_documents(base, proposed)
    applied = apply_diff(base, result)
    assert _editable_view(applied) == _editable_view(proposed)
    assert not diff_documents(applied, proposed).has_changes
    assert result.has_changes == (_editable_view(base) != _editable_view(proposed))
    # Lines come out in the proposed order, each one once.
    after_indexes = [line.after_index for line in result.lines if line.kind != "removed"]
    assert after_indexes == list(range(len(proposed["items"])))
    before_indexes = sorted(line.before_index for line in result.lines if line.kind != "added")
    assert before_indexes == list(range(len(base["items"])))
    assert result.impact.new_total - result.impact.old_total == result.impact.difference


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_a_pure_insertion_adds_exactly_one_line(data):
    base = data.draw(invoices(max_lines=6))
    new_line = data.draw(lines(item_ids=st.just(99)))
    at = data.draw(st.integers(0, len(base["items"])))
    proposed = copy.deepcopy(base)
    proposed["items"].insert(at, new_line)
    kinds = [line.kind for line in diff_documents(base, proposed).lines]
    assert kinds.count("added") == 1 and kinds.count("same") == len(base["items"])
    assert kinds.index("added") == at


def test_repeated_items_align_minimally():
    result = diff_documents(_doc(1, 1, 1), _doc(1, 99, 1, 1))
    assert [line.kind for line in result.lines] == ["same", "added", "same", "same"]
    result = diff_documents(_doc(1, 2, 1, 2), _doc(2, 1, 2))
    assert [line.kind for line in result.lines] == ["removed", "same", "same", "same"]


def test_very_long_invoices_still_align():
    before = _doc(*range(600))
    after = _doc(*range(300), 9999, *range(300, 600))
    kinds = [line.kind for line in diff_documents(before, after).lines]
    assert kinds.count("added") == 1 and kinds.count("same") == 600


def test_a_numbering_array_in_another_order_or_with_keys_reordered_is_not_a_change():
    first = {"id": "1", "prefix": "FE", "number": "5", "fullNumber": "FE5"}
    second = {"id": "2", "prefix": None}
    base = {"numberTemplate": [first, second], "items": []}
    same = [{"prefix": None, "id": "2"}, {"fullNumber": "FE5", "number": "5", "prefix": "FE", "id": "1"}]
    assert diff_documents(base, {**base, "numberTemplate": same}).changed_fields == set()
    assert diff_documents({"numberTemplate": first, "items": []},
                          {"numberTemplate": dict(reversed(list(first.items()))), "items": []}).changed_fields == set()
    moved = [second, {**first, "number": "6", "fullNumber": "FE6"}]
    assert diff_documents(base, {**base, "numberTemplate": moved}).changed_fields == {"numberTemplate"}


# --- each header field's comparable form, alignment against a reference, applying -----------------


def _same(name, a, b):
    return normalise_header(name, a) == normalise_header(name, b)


def test_each_kind_of_header_field_compares_by_what_it_says():
    # Retentions: which ones and at what percentage, in any order.
    retentions = [{"id": "1", "percentage": "2.5"}, {"id": "2", "percentage": "11"}]
    assert _same("retentions", retentions, [{"id": 2, "percentage": "11"}, {"id": 1, "percentage": "2.5"}, "odd"])
    assert not _same("retentions", retentions, [{"id": "1", "percentage": "3"}, {"id": "2", "percentage": "11"}])
    assert not _same("retentions", retentions, retentions[:1])
    assert not _same("retentions", [{"id": "1", "percentage": "2.5"}], [{"id": "2", "percentage": "2.5"}])
    assert _same("retentions", None, []) and _same("retentions", "odd", ["odd"])
    # One rate however it is written; a malformed one stays a change.
    assert _same("retentions", retentions, [{"id": "1", "percentage": "2.50"}, {"id": "2", "percentage": 11}])
    assert not _same("retentions", retentions, [{"id": "1", "percentage": "2,5"}, {"id": "2", "percentage": "11"}])
    assert not _same("retentions", [{"id": "1", "percentage": "x25"}], [{"id": "1", "percentage": "25"}])
    # A reference named without an id is known by its name.
    assert _same("client", {"name": "Ana"}, {"name": "Ana"}) and not _same("client", {"name": "Ana"}, {"name": "Eva"})
    assert not _same("client", {"name": "Ana"}, None) and _same("client", {"id": "1"}, 1)
    # Dates are trimmed; free text is kept as typed.
    assert _same("date", " 2024-03-10 ", "2024-03-10") and _same("dueDate", "2024-03-10 ", "2024-03-10")
    assert not _same("observations", " x", "x")
    # Numbers, ids and currencies.
    assert _same("totalPaid", "10.00", 10) and not _same("totalPaid", "10", "11")
    assert _same("id", "7", 7) and not _same("id", "7", "8")
    assert _same("currency", {"code": "USD", "exchangeRate": "4000.0"}, {"code": "USD", "exchangeRate": 4000})
    assert not _same("currency", {"code": "USD", "exchangeRate": "4000"}, {"code": "EUR", "exchangeRate": "4000"})
    assert not _same("currency", {"code": "USD", "exchangeRate": "4000"}, {"code": "USD", "exchangeRate": "4100"})
    assert _same("currency", "1", 1) and not _same("currency", "1", "2")


def test_a_numbering_compares_by_its_contents():
    assert _same("numberTemplate", "5", {"id": "5"}) and _same("numberTemplate", " 5 ", [{"id": "5"}])
    assert _same("numberTemplate", None, "") and not _same("numberTemplate", "", "0")
    assert not _same("numberTemplate", "5", "6")
    assert not _same("numberTemplate", {"id": "5", "prefix": "FE"}, {"prefix": "5", "id": "FE"})
    assert not _same("numberTemplate", {"id": "5", "next": 1}, {"id": "5", "next": 2})
    assert not _same("numberTemplate", {"id": "5", "isDefault": True}, {"id": "5", "isDefault": 1})
    assert not _same("numberTemplate", {"id": "5", "ranges": [1]}, {"id": "5", "ranges": [2]})
    assert not _same("numberTemplate", {"id": "5", "range": {"from": 1}}, {"id": "5", "range": {"from": 2}})
    assert not _same("numberTemplate", {"id": "5", "range": {"from": 1}}, {"id": "5", "range": {"to": 1}})
    assert _same("other", {"a": 1, "b": [2]}, {"a": Decimal("1.0"), "b": [Decimal(2)]})


def test_a_line_tax_given_as_one_value():
    assert normalise_line_field("tax", None) == normalise_line_field("tax", []) == ()
    assert normalise_line_field("tax", "3") != normalise_line_field("tax", "4")


def _lcs(a, b):
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            table[i + 1][j + 1] = table[i][j] + 1 if x == y else max(table[i][j + 1], table[i + 1][j])
    return table[-1][-1]


def _check_alignment(a, b):
    result = align_lines([{"id": str(x)} for x in a], [{"id": str(x)} for x in b])
    kept = [(line.before_index, line.after_index) for line in result if line.kind in ("same", "changed")]
    assert len(kept) == _lcs(a, b), (a, b)
    assert all(a[i] == b[j] for i, j in kept)
    assert kept == sorted(kept) and len({i for i, _ in kept}) == len({j for _, j in kept}) == len(kept)
    removed = sorted(line.before_index for line in result if line.kind == "removed")
    added = [line.after_index for line in result if line.kind == "added"]
    assert sorted([i for i, _ in kept] + removed) == list(range(len(a)))
    assert sorted([j for _, j in kept] + added) == list(range(len(b)))
    return result


def test_lines_align_on_a_longest_common_subsequence_of_items():
    rng = random.Random(17)
    for _ in range(300):
        a = [rng.randint(1, 4) for _ in range(rng.randint(0, 9))]
        b = [rng.randint(1, 4) for _ in range(rng.randint(0, 9))]
        _check_alignment(a, b)
    _check_alignment([9, 1, 2, 3], [1, 2, 3, 8])  # neither head nor tail in common
    _check_alignment([5, 1, 2], [1, 2, 5, 6])


def test_a_very_long_invoice_changed_at_both_ends_still_aligns_on_repeated_items():
    before = [1] * 300 + [2] * 300 + [7777]
    after = [8888] + [1] * 300 + [2] * 300
    result = _check_alignment(before, after)  # 601 × 601 lines: the approximate alignment
    kinds = [line.kind for line in result]
    assert (kinds.count("same"), kinds.count("added"), kinds.count("removed")) == (600, 1, 1)
    assert (result[1].before_index, result[1].after_index) == (0, 1)


def test_a_conflict_names_its_fields():
    error = DiffConflict(["date", "items[0].price"])
    assert error.fields == ["date", "items[0].price"]
    assert str(error) == "conflicting changes on: date, items[0].price"


def test_applied_onto_a_version_with_another_number_of_lines_the_conflict_is_the_items():
    base, proposed = _doc(1, 2), _doc(1, 2)
    proposed["items"][0]["price"] = "20"
    with pytest.raises(DiffConflict) as conflict:
        apply_diff(_doc(1, 2, 3), diff_documents(base, proposed))
    assert conflict.value.fields == ["items"]


def test_applying_copies_every_value_it_takes():
    base = _doc(1, 2)
    proposed = copy.deepcopy(base)
    proposed["items"][0]["tax"] = [{"id": "2", "percentage": "5"}]
    proposed["items"].append(_line(3))
    proposed["client"] = {"id": "2", "name": "otro"}
    changes = diff_documents(base, proposed)
    result = apply_diff(base, changes)
    assert result == proposed
    result["items"][0]["tax"][0]["id"] = "x"
    result["items"][2]["tax"][0]["id"] = "x"
    result["client"]["id"] = "x"
    assert proposed["items"][0]["tax"][0]["id"] == "2" and proposed["items"][2]["tax"][0]["id"] == "3"
    assert proposed["client"]["id"] == "2" and base["items"][1]["tax"][0]["id"] == "3"
    result["items"][1]["tax"][0]["id"] = "y"
    assert base["items"][1]["tax"][0]["id"] == "3"


def test_a_field_removed_by_the_edit_is_removed_and_one_never_there_stays_away():
    base = _doc(1, seller={"id": "4"})
    proposed = copy.deepcopy(base)
    proposed["seller"] = None
    proposed["warehouse"] = {"id": "1"}
    result = apply_diff(base, diff_documents(base, proposed))
    assert result["seller"] is None and result["warehouse"] == {"id": "1"}
    dropped = copy.deepcopy(base)
    del dropped["seller"]
    dropped["observations"] = "nota"
    result = apply_diff(base, diff_documents(base, dropped))
    assert result["seller"] is None and result["observations"] == "nota"
    assert "anotation" not in apply_diff(base, diff_documents(base, {**base, "anotation": None}))


def test_a_document_with_a_malformed_line_still_totals_its_other_lines_with_the_company_taxes():
    taxes = {"3": TAXES["3"]}
    before = _doc(1, 2)
    before["items"][0]["price"] = "abc"
    before["items"][1]["tax"] = [{"id": "3"}]  # the percentage comes from the catalogue
    after = copy.deepcopy(before)
    after["items"][1]["price"] = "20"
    result = diff_documents(before, after, taxes)
    assert result.impact is None  # the invoice as a whole cannot be totalled
    (total,) = [change for change in result.lines[1].fields if change.field == "total"]
    assert (total.before, total.after) == (Decimal(12), Decimal(23))  # 10 and 20, plus 16 %
    assert result.lines[1].after == after["items"][1]
    odd = {**before, "decimalPrecision": "x"}
    assert [line.kind for line in diff_documents(odd, {**odd, "items": after["items"]}, taxes).lines] == [
        "same", "changed"]


def test_the_money_impact_uses_the_company_taxes_on_both_sides():
    taxes = {"3": TAXES["3"]}
    before = _doc(1)
    before["items"][0]["tax"] = [{"id": "3"}]
    after = copy.deepcopy(before)
    after["items"][0]["price"] = "20"
    impact = diff_documents(before, after, taxes).impact
    assert (impact.old_total, impact.new_total, impact.difference) == (12, 23, 11)
    assert (impact.before.total, impact.after.total) == (12, 23)
    (line,) = diff_documents(before, after, taxes).lines
    assert {change.field for change in line.fields} == {"price", "total"}


def test_malformed_lines_and_numbers_read_as_what_they_say():
    assert document_lines({"items": [None, "x", {"id": 1}]}) == [{}, {}, {"id": 1}]
    assert normalise_line_field("price", "abc") != normalise_line_field("price", "xyz")


def test_every_line_moved_under_the_edit_is_named():
    base, proposed = _doc(1, 2), _doc(1, 2)
    for line in proposed["items"]:
        line["price"] = "20"
    with pytest.raises(DiffConflict) as conflict:
        apply_diff(_doc(3, 4), diff_documents(base, proposed))
    assert conflict.value.fields == ["items[0]", "items[1]"]


def test_applying_compares_each_field_by_its_meaning_not_its_spelling():
    base = _doc(1)
    base["items"][0]["tax"] = [TAXES["3"], TAXES["2"]]
    proposed = copy.deepcopy(base)
    proposed["items"][0]["tax"] = [TAXES["3"]]
    proposed["client"] = {"id": "2", "name": "otro"}
    newer = copy.deepcopy(base)
    newer["items"][0]["tax"] = [TAXES["2"], TAXES["3"]]  # the same taxes, listed the other way round
    newer["client"] = {"id": 1}  # the same client, without its name
    result = apply_diff(newer, diff_documents(base, proposed))
    assert result["items"][0]["tax"] == [TAXES["3"]] and result["client"] == {"id": "2", "name": "otro"}


def test_applying_leaves_the_source_documents_alone_and_skips_nothing():
    base = _doc(1, currency={"code": "COP"}, seller={"id": "4"})
    proposed = {**base, "seller": None, "retentions": [{"id": "1", "percentage": "2"}], "termsConditions": "t"}
    newer = {name: value for name, value in base.items() if name != "seller"}
    result = apply_diff(newer, diff_documents(base, proposed))  # the seller is gone already: no key for it
    assert "seller" not in result and result["termsConditions"] == "t"
    result["currency"]["code"] = "USD"
    result["retentions"][0]["id"] = "9"
    assert base["currency"] == {"code": "COP"} and proposed["retentions"] == [{"id": "1", "percentage": "2"}]
