"""Forms of the edit screens, and the documents they propose.

The forms only parse what was typed (numbers, ids, lengths that keep requests sane). The
business rules live in `approvals.services` and `invoices.rules`, so every caller gets the same
checks and the same messages. A proposed document starts from the mirrored one and changes only
what the form changed, keeping every value it did not touch exactly as Alegra wrote it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from invoices import arithmetic, diff, editable
from invoices.mirror import MAX_LINES

MAX_NUMBER = Decimal("1e15")
MAX_NUMBER_TEXT = 40
MAX_DECIMALS = 12
MAX_TAXES_PER_LINE = 10
LINE_PREFIX = "lines"
LINE_FIELDS = ("origin", "item", "name", "description", "reference", "price", "quantity",
               "discount", "tax")

PAYMENT_FORMS = [("CASH", _("Cash")), ("CREDIT", _("Credit"))]
PAYMENT_METHODS = [
    ("CASH", _("Cash")), ("DEBIT-CARD", _("Debit card")), ("CREDIT-CARD", _("Credit card")),
    ("TRANSFER", _("Bank transfer")), ("CHECK", _("Cheque")), ("OTHER", _("Other")),
]
CREDIT_NOTE_TYPES = [
    ("PARTIALL_DEVOLUTION", _("Partial return of goods")),
    ("VOID_ELECTRONIC_INVOICE", _("Annulment of the electronic invoice")),
    ("REDUCTION_DISCOUNT_PARTIAL_TOTAL", _("Partial or total discount")),
    ("PRICE_ADJUSTMENT", _("Price adjustment")),
    ("OTHER", _("Other")),
]
assert [code for code, _label in CREDIT_NOTE_TYPES] == list(editable.CREDIT_NOTE_TYPES)


class DecimalText(forms.CharField):
    """An exact number as typed ("1234.5", "1234,5"); business bounds are the rules' job."""

    default_error_messages = {
        "invalid": _("Enter a number."),
        "too_large": _("The number is too large."),
        "too_precise": _("Use at most 12 decimals."),
    }

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        text = text.replace(" ", "")
        if len(text) > MAX_NUMBER_TEXT:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        if "," in text and "." not in text:
            text = text.replace(",", ".")
        try:
            number = Decimal(text)
        except (InvalidOperation, ValueError):
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        if not number.is_finite():
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        if number == 0:
            return Decimal(0)  # "0E-999999" would print a million zeros
        if abs(number) >= MAX_NUMBER:
            raise ValidationError(self.error_messages["too_large"], code="too_large")
        if number.normalize().as_tuple().exponent < -MAX_DECIMALS:
            raise ValidationError(self.error_messages["too_precise"], code="too_precise")
        return number

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update({"inputmode": "decimal", "autocomplete": "off"})
        return attrs


class IdField(forms.CharField):
    """An Alegra id: text, at most 36 characters."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 36)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


class IdListField(forms.Field):
    """Several ids (the taxes of a line); whether each exists is a business rule."""

    widget = forms.CheckboxSelectMultiple
    default_error_messages = {"invalid": _("Choose at most 10 taxes.")}

    def to_python(self, value):
        if value in (None, ""):
            return []
        values = value if isinstance(value, (list, tuple)) else [value]
        result = []
        for raw in values:
            text = str(raw).strip()
            if not text:
                continue
            if len(text) > 36 or "\x00" in text:
                raise ValidationError(self.error_messages["invalid"], code="invalid")
            if text not in result:
                result.append(text)
        if len(result) > MAX_TAXES_PER_LINE:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return result


def _with_current(choices: list, current: Any) -> list:
    """The standard choices, plus the invoice's own value when it is another spelling."""
    codes = {code for code, _label in choices}
    extra = [(str(current), str(current))] if current not in (None, "") and str(current) not in codes else []
    return [("", "—"), *choices, *extra]


class InvoiceHeaderForm(forms.Form):
    base_hash = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)
    date = forms.CharField(label=_("Date"), max_length=10, required=False,
                           widget=forms.DateInput(attrs={"type": "date"}))
    dueDate = forms.CharField(label=_("Due date"), max_length=10, required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))
    client = IdField(label=_("Client"), widget=forms.HiddenInput)
    paymentForm = forms.ChoiceField(label=_("Payment form"), required=False)
    paymentMethod = forms.ChoiceField(label=_("Payment method"), required=False)
    seller = IdField(label=_("Seller (id)"))
    priceList = IdField(label=_("Price list (id)"))
    observations = forms.CharField(label=_("Observations"), required=False, strip=False,
                                   widget=forms.Textarea(attrs={"rows": 2}))
    anotation = forms.CharField(label=_("Printed note"), required=False, strip=False,
                                widget=forms.Textarea(attrs={"rows": 2}))
    termsConditions = forms.CharField(label=_("Terms and conditions"), required=False,
                                      strip=False, widget=forms.Textarea(attrs={"rows": 2}))
    reason = forms.CharField(label=_("Reason for the change"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, base: Mapping | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        base = base or {}
        self.fields["paymentForm"].choices = _with_current(PAYMENT_FORMS, base.get("paymentForm"))
        self.fields["paymentMethod"].choices = _with_current(PAYMENT_METHODS, base.get("paymentMethod"))


class Shared:
    """A field no form instance changes, so the hundreds of line forms share it, uncopied."""

    def __deepcopy__(self, memo):
        return self


class SharedInteger(Shared, forms.IntegerField):
    pass


class SharedText(Shared, forms.CharField):
    pass


class SharedId(Shared, IdField):
    pass


class SharedDecimal(Shared, DecimalText):
    pass


class SharedIdList(Shared, IdListField):
    pass


class LineForm(forms.Form):
    origin = SharedInteger(required=False, min_value=0, max_value=MAX_LINES, widget=forms.HiddenInput)
    item = SharedId(widget=forms.HiddenInput)
    name = SharedText(required=False, max_length=300, widget=forms.HiddenInput)
    description = SharedText(label=_("Description"), required=False, strip=False)
    reference = SharedText(label=_("Reference"), required=False)
    price = SharedDecimal(label=_("Unit price"),
                          error_messages={"required": _("Enter the unit price.")})
    quantity = SharedDecimal(label=_("Quantity"),
                             error_messages={"required": _("Enter the quantity.")})
    discount = SharedDecimal(label=_("Discount %"), required=False)
    tax = SharedIdList(label=_("Taxes"), required=False)


LineFormSet = forms.formset_factory(LineForm, extra=0, max_num=MAX_LINES,
                                    absolute_max=MAX_LINES, validate_max=True)


class CreditNoteForm(forms.Form):
    base_hash = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)
    date = forms.CharField(label=_("Credit note date"), max_length=10, required=False,
                           widget=forms.DateInput(attrs={"type": "date"}))
    type = forms.ChoiceField(label=_("Type"), required=False,
                             choices=[("", "—"), *CREDIT_NOTE_TYPES])
    cause = forms.CharField(label=_("Cause (printed on the note)"), required=False,
                            max_length=500)
    reason = forms.CharField(label=_("Reason for the change"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))


class CreditLineForm(forms.Form):
    quantity = DecimalText(label=_("Quantity to credit"), required=False)
    price = DecimalText(label=_("Unit price credited"), required=False)


class ContactForm(forms.Form):
    base_hash = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)
    email = forms.CharField(label=_("E-mail"), required=False, max_length=254)
    phonePrimary = forms.CharField(label=_("Phone"), required=False, max_length=100)
    phoneSecondary = forms.CharField(label=_("Second phone"), required=False, max_length=100)
    mobile = forms.CharField(label=_("Mobile"), required=False, max_length=100)
    address = forms.CharField(label=_("Address"), required=False, max_length=1000)
    city = forms.CharField(label=_("City"), required=False, max_length=1000)
    reason = forms.CharField(label=_("Reason for the change"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))


# --- from documents to form data ---------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return ""
    return str(value)


def _number_text(value: Any) -> str:
    try:
        return editable.decimal_text(value)
    except (ValueError, TypeError):
        return _text(value)


def header_initial(document: Mapping) -> dict:
    return {
        "date": _text(document.get("date"))[:10],
        "dueDate": _text(document.get("dueDate"))[:10],
        "client": diff.reference_id(document.get("client")) or "",
        "paymentForm": _text(document.get("paymentForm")),
        "paymentMethod": _text(document.get("paymentMethod")),
        "seller": diff.reference_id(document.get("seller")) or "",
        "priceList": diff.reference_id(document.get("priceList")) or "",
        "observations": _text(document.get("observations")),
        "anotation": _text(document.get("anotation")),
        "termsConditions": _text(document.get("termsConditions")),
    }


def line_raw(line: Mapping, origin: int | None) -> dict:
    """One line as the form posts it."""
    return {
        "origin": "" if origin is None else str(origin),
        "item": diff.item_id(line),
        "name": _text(line.get("name")),
        "description": _text(line.get("description")),
        "reference": _text(line.get("reference")),
        "price": _number_text(line.get("price")),
        "quantity": _number_text(line.get("quantity")),
        "discount": _number_text(line.get("discount")),
        "tax": [arithmetic.tax_id(tax) for tax in line.get("tax") or () if arithmetic.tax_id(tax)],
    }


def document_lines_raw(document: Mapping, *, origins: bool) -> list[dict]:
    """Form rows for a document; `origins` ties each row to the base line it edits."""
    items = document.get("items")
    items = items if isinstance(items, list) else []
    return [line_raw(line if isinstance(line, Mapping) else {}, index if origins else None)
            for index, line in enumerate(items)]


def origins_against(base: Mapping, proposed: Mapping) -> list[dict]:
    """Form rows for a saved proposal, each tied to the base line it was made from."""
    base_items = base.get("items") if isinstance(base.get("items"), list) else []
    proposed_items = proposed.get("items") if isinstance(proposed.get("items"), list) else []
    rows = []
    for change in diff.align_lines(base_items, proposed_items):
        if change.after is None:
            continue
        rows.append(line_raw(change.after, change.before_index))
    return rows


def form_data(header: Mapping, lines: list[dict], extra: Mapping | None = None) -> QueryDict:
    """Header values and line rows as one POST-like QueryDict (management form included)."""
    data = QueryDict(mutable=True)
    for name, value in header.items():
        data[name] = "" if value is None else str(value)
    for name, value in (extra or {}).items():
        data[name] = value
    data[f"{LINE_PREFIX}-TOTAL_FORMS"] = str(len(lines))
    data[f"{LINE_PREFIX}-INITIAL_FORMS"] = "0"
    for index, row in enumerate(lines):
        for name in LINE_FIELDS:
            key = f"{LINE_PREFIX}-{index}-{name}"
            if name == "tax":
                data.setlist(key, list(row.get("tax") or []))
            else:
                data[key] = _text(row.get(name))
    return data


def posted_lines(data: QueryDict) -> list[dict]:
    """The line rows of a POST, as posted (nothing parsed yet), for the structural operations."""
    try:
        total = int(data.get(f"{LINE_PREFIX}-TOTAL_FORMS", "0"))
    except (TypeError, ValueError):
        total = 0
    rows = []
    for index in range(max(0, min(total, MAX_LINES))):
        row = {}
        for name in LINE_FIELDS:
            key = f"{LINE_PREFIX}-{index}-{name}"
            row[name] = data.getlist(key)[:MAX_TAXES_PER_LINE + 1] if name == "tax" else data.get(key, "")
        rows.append(row)
    return rows


def header_posted(data: QueryDict) -> dict:
    names = [*InvoiceHeaderForm.base_fields]
    return {name: data.get(name, "") for name in names}


# --- from form data to the proposed document ---------------------------------------------


def _same_text(posted: str, raw: Any) -> bool:
    """Whether a posted text is the stored one (browsers send CRLF and drop newlines in inputs)."""
    stored = _text(raw)
    posted = posted.replace("\r\n", "\n")
    stored_lf = stored.replace("\r\n", "\n")
    return posted == stored_lf or posted == stored_lf.replace("\n", "")


def _set_text(document: dict, name: str, posted: str) -> None:
    if _same_text(posted, document.get(name)):
        return
    document[name] = posted.replace("\r\n", "\n")


def _same_number(raw: Any, value: Decimal) -> bool:
    try:
        return arithmetic.to_decimal(raw) == value
    except (ValueError, TypeError):
        return False


def _reference(base_value: Any, ident: str) -> Any:
    if ident == (diff.reference_id(base_value) or ""):
        return copy.deepcopy(base_value)
    return {"id": ident} if ident else None


CLIENT_KEYS = ("id", "name", "identification", "email", "phonePrimary", "phoneSecondary",
               "mobile", "address")


def client_from_contact(contact_document: Mapping) -> dict:
    return {key: copy.deepcopy(contact_document[key]) for key in CLIENT_KEYS if key in contact_document}


def proposed_header(base: Mapping, data: Mapping, contact_document: Mapping | None) -> dict:
    document = copy.deepcopy(dict(base))
    for name in ("date", "dueDate", "paymentForm", "paymentMethod", "observations",
                 "anotation", "termsConditions"):
        _set_text(document, name, data.get(name) or "")
    client = data.get("client") or ""
    if client != (diff.reference_id(base.get("client")) or ""):
        document["client"] = (client_from_contact(contact_document) if contact_document
                              else ({"id": client} if client else None))
    for name in ("seller", "priceList"):
        document[name] = _reference(base.get(name), data.get(name) or "")
        if name not in base and document[name] is None:
            del document[name]
    return document


def proposed_line(base_items: list, data: Mapping, taxes: Mapping[str, Mapping]) -> dict:
    origin = data.get("origin")
    source: Mapping = {}
    if isinstance(origin, int) and 0 <= origin < len(base_items) and isinstance(base_items[origin], Mapping):
        if diff.item_id(base_items[origin]) == (data.get("item") or ""):
            source = base_items[origin]
    line = copy.deepcopy(dict(source))
    line["id"] = source["id"] if source else (data.get("item") or None)
    if data.get("name") and not _same_text(data["name"], source.get("name")):
        line["name"] = data["name"]
    for name in ("description", "reference"):
        posted = data.get(name) or ""
        if not _same_text(posted, source.get(name)):
            line[name] = posted.replace("\r\n", "\n")
        elif not source:
            line[name] = posted
    for name in ("price", "quantity", "discount"):
        value = data.get(name)
        value = Decimal(0) if value is None else value
        if name in source and _same_number(source.get(name), value):
            continue
        line[name] = editable.decimal_text(value)
    wanted = list(data.get("tax") or [])
    existing = [arithmetic.tax_id(tax) for tax in source.get("tax") or ()]
    if wanted != existing or not source:
        line["tax"] = [copy.deepcopy(dict(taxes[ident])) if ident in taxes else {"id": ident}
                       for ident in wanted]
    line.pop("total", None)
    return line


def proposed_invoice(base: Mapping, header: Mapping, lines: list[Mapping],
                     taxes: Mapping[str, Mapping], contact_document: Mapping | None = None) -> dict:
    """The invoice `base` with the header fields and lines of the form."""
    document = proposed_header(base, header, contact_document)
    base_items = base.get("items") if isinstance(base.get("items"), list) else []
    document["items"] = [proposed_line(base_items, data, taxes) for data in lines]
    return document


# --- credit notes ------------------------------------------------------------------------


def credit_lines_initial(invoice_doc: Mapping, note: Mapping) -> dict[int, dict]:
    """For a saved note: which invoice line each note line credits, by item in order."""
    items = invoice_doc.get("items") if isinstance(invoice_doc.get("items"), list) else []
    initial: dict[int, dict] = {}
    start = 0
    for note_line in note.get("items") or ():
        if not isinstance(note_line, Mapping):
            continue
        for index in range(start, len(items)):
            if isinstance(items[index], Mapping) and diff.item_id(items[index]) == diff.item_id(note_line):
                initial[index] = {"quantity": _number_text(note_line.get("quantity")),
                                  "price": _number_text(note_line.get("price"))}
                start = index + 1
                break
    return initial


def net_price(line: Mapping) -> Decimal | None:
    try:
        return editable._net_price(line)
    except (ValueError, TypeError, ArithmeticError):
        return None


def proposed_credit_note(invoice_doc: Mapping, data: Mapping, lines: list[Mapping]) -> dict:
    """A POST /credit-notes body from the composer; bad values are left for the rules."""
    items = invoice_doc.get("items") if isinstance(invoice_doc.get("items"), list) else []
    returned = []
    for index, row in enumerate(lines[: len(items)]):
        quantity = row.get("quantity")
        if quantity is None or quantity == 0:
            continue
        price = row.get("price")
        if price is not None and price == net_price(items[index]):
            price = None
        returned.append(editable.ReturnedLine(index=index, quantity=quantity, price=price))
    note_type, cause, date = data.get("type") or "", (data.get("cause") or "").strip(), data.get("date") or ""
    try:
        return editable.credit_note_body(invoice_doc, returned, note_type, cause, date)
    except (ValueError, TypeError, ArithmeticError):
        # The invoice itself holds a value the arithmetic cannot use; the rules say which.
        return {"client": {"id": diff.reference_id(invoice_doc.get("client"))}, "date": date,
                "type": note_type, "cause": cause, "items": []}


# --- contacts ----------------------------------------------------------------------------

CONTACT_FORM_PATHS = {
    "email": "email", "phonePrimary": "phonePrimary", "phoneSecondary": "phoneSecondary",
    "mobile": "mobile", "address": "address.address", "city": "address.city",
}


def contact_initial(document: Mapping) -> dict:
    address = document.get("address") if isinstance(document.get("address"), Mapping) else {}
    return {
        "email": _text(document.get("email")), "phonePrimary": _text(document.get("phonePrimary")),
        "phoneSecondary": _text(document.get("phoneSecondary")), "mobile": _text(document.get("mobile")),
        "address": _text(address.get("address")), "city": _text(address.get("city")),
    }


def proposed_contact(base: Mapping, data: Mapping) -> dict:
    document = copy.deepcopy(dict(base))
    current = contact_initial(base)
    for name, path in CONTACT_FORM_PATHS.items():
        posted = (data.get(name) or "").strip()
        if posted == current[name].strip():
            continue
        if "." in path:
            parent, key = path.split(".")
            if not isinstance(document.get(parent), dict):
                document[parent] = {}
            document[parent][key] = posted
        else:
            document[path] = posted
    return document
