"""The difference between two invoice documents.

One model serves the edit screen (what the editor changed), the approver (what will be written
and what it does to the total) and the audit history (what changed between two versions read
from Alegra). Values are compared after normalisation, because the same invoice arrives with
"1.00" or 1 and with id "3" or 3 depending on the endpoint and the year of the recording.

Lines have no id of their own in Alegra, so a line is known by its position and its catalogue
item id. Lines are aligned on item ids (a longest common subsequence), so inserting a line in
the middle shows as one added line rather than every later line changed.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from invoices import arithmetic
from invoices.documents import references

# Known header fields, in the order a person reads them; other top-level keys follow, sorted.
HEADER_FIELDS = (
    "date", "dueDate", "client", "status", "paymentForm", "paymentMethod", "seller",
    "priceList", "warehouse", "costCenter", "currency", "numberTemplate", "observations",
    "anotation", "termsConditions",
)
# Alegra computes these; the money impact reports them instead of the header.
COMPUTED_FIELDS = frozenset({"subtotal", "discount", "tax", "total", "balance"})
REFERENCE_FIELDS = frozenset(
    {"client", "seller", "priceList", "warehouse", "costCenter", "numberTemplate"}
)
TEXT_FIELDS = frozenset(
    {"date", "dueDate", "status", "paymentForm", "paymentMethod", "observations", "anotation",
     "termsConditions"}
)
NUMBER_FIELDS = frozenset({"totalPaid", "decimalPrecision"})

LINE_FIELDS = ("price", "quantity", "discount", "tax", "description", "reference")
LINE_NUMBER_FIELDS = frozenset({"price", "quantity", "discount"})
# The line total is derived from the other fields: shown, never applied.
DERIVED_LINE_FIELDS = frozenset({"total"})


class DiffConflict(ValueError):
    """The document a diff is applied to moved on the same fields the diff changes."""

    def __init__(self, fields: Sequence[str]):
        self.fields = list(fields)
        super().__init__("conflicting changes on: " + ", ".join(self.fields))


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any  # raw values as found in the documents (None when absent)
    after: Any


@dataclass(frozen=True)
class LineChange:
    kind: str  # "same" | "changed" | "added" | "removed"
    before: dict | None
    after: dict | None
    fields: tuple[FieldChange, ...] = ()
    before_index: int | None = None
    after_index: int | None = None

    @property
    def item_id(self) -> str:
        return references.item_id(self.after if self.after is not None else self.before)

    def field_names(self) -> set[str]:
        return {change.field for change in self.fields}


@dataclass(frozen=True)
class MoneyImpact:
    old_total: Decimal
    new_total: Decimal
    difference: Decimal
    before: arithmetic.InvoiceTotals
    after: arithmetic.InvoiceTotals


@dataclass
class DocumentDiff:
    header: list[FieldChange] = field(default_factory=list)
    lines: list[LineChange] = field(default_factory=list)
    # None when a document cannot be computed (a malformed price): the rules report why.
    impact: MoneyImpact | None = None
    # False when the catalogue's taxes could not be applied and the diff was made without them.
    taxes_applied: bool = field(default=True, compare=False)

    @property
    def lines_changed(self) -> bool:
        return any(line.kind != "same" for line in self.lines)

    @property
    def has_changes(self) -> bool:
        return bool(self.header) or self.lines_changed

    @property
    def changed_fields(self) -> set[str]:
        """Header names, plus "items.<field>", "items.added", "items.removed" for lines.

        Derived figures (line totals) are left out: rules about what a person changed, such
        as "only the observations", must not trip over a total that merely follows.
        """
        names = {change.field for change in self.header}
        for line in self.lines:
            if line.kind in ("added", "removed"):
                names.add(f"items.{line.kind}")
            for change in line.fields:
                if change.field not in DERIVED_LINE_FIELDS:
                    names.add(f"items.{change.field}")
        return names


def _number(value: Any) -> Any:
    # A malformed number stays as text so it still shows as a change; rules report it.
    try:
        return arithmetic.to_decimal(value)
    except ValueError:
        return str(value).strip()


def _percentage(value: Any) -> str:
    # As text, so entries sort whatever they hold; 2.5 and 2.50 are one rate.
    number = _number(value)
    return format(number.normalize(), "f") if isinstance(number, Decimal) else f"?{number}"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _generic(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _generic(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_generic(v) for v in value]
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return arithmetic.to_decimal(value)
    return value


def _template(value: Any) -> Any:
    """A numbering, compared by what it says: one object, or an array in any order."""
    templates = value if isinstance(value, (list, tuple)) else [value]
    keyed = []
    for template in templates:
        if isinstance(template, Mapping):
            keyed.append(tuple(sorted((str(k), repr(_generic(v))) for k, v in template.items())))
        elif template not in (None, ""):
            keyed.append((("id", repr(str(template).strip())),))
    return tuple(sorted(keyed))


def normalise_header(name: str, value: Any) -> Any:
    """The comparable form of a top-level value."""
    if name == "numberTemplate":
        return _template(value)
    if name == "retentions":
        # Which retentions apply; their amounts follow the lines and show in the totals.
        entries = value if isinstance(value, (list, tuple)) else []
        return tuple(sorted((references.tax_id(r), _percentage(r.get("percentage")))
                            for r in entries if isinstance(r, Mapping)))
    if name in REFERENCE_FIELDS:
        ident = references.reference_id(value)
        if ident is None and isinstance(value, Mapping) and value.get("name"):
            return ("name", str(value["name"]))
        return ident
    if name in TEXT_FIELDS:
        return _text(value).strip() if name in ("date", "dueDate") else _text(value)
    if name in NUMBER_FIELDS:
        return _number(value)
    if name == "id":
        return references.reference_id(value)
    if name == "currency":
        if not isinstance(value, Mapping):
            return references.reference_id(value)
        return (_text(value.get("code")), _number(value.get("exchangeRate")))
    return _generic(value)


def normalise_line_field(name: str, value: Any) -> Any:
    if name in LINE_NUMBER_FIELDS:
        return _number(value)
    if name == "tax":
        if not isinstance(value, (list, tuple)):
            return ("?", _text(value)) if value else ()
        return tuple(sorted(references.tax_id(tax) for tax in value))
    return _text(value)


def _line_totals(doc: Mapping[str, Any], taxes) -> list[Decimal | None]:
    """Each line's computed total, or None where a value is malformed."""
    try:
        precision = arithmetic.precision_of(doc)
    except ValueError:
        return [None] * len(document_lines(doc))
    totals: list[Decimal | None] = []
    for line in document_lines(doc):
        try:
            totals.append(arithmetic.line_totals(line, precision, taxes).total)
        except ValueError:
            totals.append(None)
    return totals


def document_lines(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The lines of a document; anything malformed reads as an empty line."""
    items = doc.get("items")
    if not isinstance(items, (list, tuple)):
        return []
    return [line if isinstance(line, Mapping) else {} for line in items]


def _header_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[FieldChange]:
    others = sorted((set(before) | set(after)) - set(HEADER_FIELDS) - COMPUTED_FIELDS - {"items"})
    changes = []
    for name in (*HEADER_FIELDS, *others):
        old, new = before.get(name), after.get(name)
        if normalise_header(name, old) != normalise_header(name, new):
            changes.append(FieldChange(name, old, new))
    return changes


def _line_pair(
    old: Mapping, new: Mapping, i: int, j: int, old_total: Decimal | None,
    new_total: Decimal | None,
) -> LineChange:
    changes = [
        FieldChange(name, old.get(name), new.get(name))
        for name in LINE_FIELDS
        if normalise_line_field(name, old.get(name)) != normalise_line_field(name, new.get(name))
    ]
    # A line that cannot be computed shows its other changes; the rules say what is wrong.
    if old_total is not None and new_total is not None and old_total != new_total:
        changes.append(FieldChange("total", old_total, new_total))
    kind = "changed" if changes else "same"
    return LineChange(kind, dict(old), dict(new), tuple(changes), i, j)


# Above this many cells the exact alignment costs too much; difflib's is close enough.
MAX_ALIGNMENT_CELLS = 250_000


def _matching_pairs(old: Sequence[str], new: Sequence[str]) -> list[tuple[int, int]]:
    """Indexes of lines kept, as a longest common subsequence of item ids.

    difflib alone is not minimal with repeated items (three lines of the same item with one
    inserted between them shows as two added and one removed), so the exact alignment is used
    for any invoice of ordinary size.
    """
    # A common head and tail belong to a longest common subsequence: align them directly and
    # run the quadratic search on the middle only (an edit usually touches a few lines).
    n, m = len(old), len(new)
    head = 0
    while head < min(n, m) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(n, m) - head and old[n - 1 - tail] == new[m - 1 - tail]:
        tail += 1
    middle = _middle_pairs(old[head:n - tail], new[head:m - tail])
    return ([(k, k) for k in range(head)]
            + [(i + head, j + head) for i, j in middle]
            + [(n - tail + k, m - tail + k) for k in range(tail)])


def _middle_pairs(old: Sequence[str], new: Sequence[str]) -> list[tuple[int, int]]:
    n, m = len(old), len(new)
    if n * m > MAX_ALIGNMENT_CELLS:
        matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
        return [(block.a + k, block.b + k)
                for block in matcher.get_matching_blocks() for k in range(block.size)]
    # lcs[i][j]: length of the longest common subsequence of old[i:] and new[j:]
    lcs = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            lcs[i][j] = (lcs[i + 1][j + 1] + 1 if old[i] == new[j]
                         else max(lcs[i + 1][j], lcs[i][j + 1]))
    pairs, i, j = [], 0, 0
    while i < n and j < m:
        if old[i] == new[j]:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif lcs[i + 1][j] >= lcs[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs


def align_lines(
    before: Sequence[Mapping],
    after: Sequence[Mapping],
    before_totals: Sequence[Decimal | None] | None = None,
    after_totals: Sequence[Decimal | None] | None = None,
) -> list[LineChange]:
    """Pairs of lines, in the order of `after`, with removed lines where they stood.

    The line totals, when given, let a pair report a changed total.
    """
    before_totals = before_totals or [None] * len(before)
    after_totals = after_totals or [None] * len(after)
    pairs = _matching_pairs([references.item_id(line) for line in before], [references.item_id(line) for line in after])
    result: list[LineChange] = []
    i = j = 0
    for pair_i, pair_j in [*pairs, (len(before), len(after))]:
        # A different item at a position is another line, not the same line edited.
        for k in range(i, pair_i):
            result.append(LineChange("removed", dict(before[k]), None, (), k, None))
        for k in range(j, pair_j):
            result.append(LineChange("added", None, dict(after[k]), (), None, k))
        if pair_i < len(before):
            result.append(_line_pair(before[pair_i], after[pair_j], pair_i, pair_j,
                                     before_totals[pair_i], after_totals[pair_j]))
        i, j = pair_i + 1, pair_j + 1
    return result


def _totals(doc: Mapping[str, Any], taxes) -> arithmetic.InvoiceTotals | None:
    try:
        return arithmetic.invoice_totals(doc, taxes)
    except ValueError:
        return None


def _impact_of(old: arithmetic.InvoiceTotals | None, new: arithmetic.InvoiceTotals | None) -> MoneyImpact | None:
    if old is None or new is None:
        return None
    return MoneyImpact(old.total, new.total, new.total - old.total, old, new)


def diff_documents(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    taxes: Mapping[str, Any] | None = None,
) -> DocumentDiff:
    """`taxes` (tax id → {name, percentage}) fills percentages missing from line taxes.

    Each side's totals are computed once and serve both the line totals and the money impact;
    only a document that cannot be totalled as a whole is computed line by line (to say which).
    """
    old, new = _totals(before, taxes), _totals(after, taxes)
    return DocumentDiff(
        header=_header_changes(before, after),
        lines=align_lines(document_lines(before), document_lines(after),
                          _totals_of_lines(before, old, taxes), _totals_of_lines(after, new, taxes)),
        impact=_impact_of(old, new),
    )


def _totals_of_lines(doc: Mapping[str, Any], totals: arithmetic.InvoiceTotals | None,
                     taxes) -> list[Decimal | None]:
    if totals is not None:
        return [line.total for line in totals.lines]
    return _line_totals(doc, taxes)


def changed_field_names(before: Mapping[str, Any], after: Mapping[str, Any]) -> set[str]:
    """What a person changed, e.g. {"observations"}; see DocumentDiff.changed_fields."""
    return diff_documents(before, after).changed_fields


def _still(current: Any, change: FieldChange, normalise) -> bool:
    """The target still holds the diff's old or new value for this field."""
    return normalise(current) in (normalise(change.before), normalise(change.after))


def _apply_lines(target: Sequence[Mapping], lines: Sequence[LineChange], conflicts: list[str]):
    covered = sorted(line.before_index for line in lines if line.before_index is not None)
    if covered != list(range(len(target))):
        conflicts.append("items")
        return [copy.deepcopy(dict(line)) for line in target]
    result = []
    for line in lines:
        if line.kind == "added":
            result.append(copy.deepcopy(line.after))
            continue
        assert line.before_index is not None  # only an added line has none
        current = target[line.before_index]
        if references.item_id(current) != references.item_id(line.before):
            conflicts.append(f"items[{line.before_index}]")
            continue
        if line.kind == "removed":
            continue
        updated = copy.deepcopy(dict(current))
        for change in line.fields:
            if change.field in DERIVED_LINE_FIELDS:
                continue
            def norm(value, name=change.field):
                return normalise_line_field(name, value)
            if not _still(current.get(change.field), change, norm):
                conflicts.append(f"items[{line.before_index}].{change.field}")
            updated[change.field] = copy.deepcopy(change.after)
        result.append(updated)
    return result


def apply_diff(before: Mapping[str, Any], diff: DocumentDiff) -> dict:
    """`before` with the diff's changes; raises DiffConflict where `before` moved on them.

    Applied to the document the diff was made from, the result equals the proposed document
    on every compared field. Applied to a newer version of the invoice, it carries the edit
    over (a rebase) unless the newer version changed one of the same fields.
    """
    result = copy.deepcopy(dict(before))
    conflicts: list[str] = []
    for change in diff.header:
        def norm(value, name=change.field):
            return normalise_header(name, value)
        if not _still(before.get(change.field), change, norm):
            conflicts.append(change.field)
        if change.after is None and change.field not in before:
            continue
        result[change.field] = copy.deepcopy(change.after)
    if diff.lines_changed:
        result["items"] = _apply_lines(document_lines(before), diff.lines, conflicts)
    if conflicts:
        raise DiffConflict(conflicts)
    return result
