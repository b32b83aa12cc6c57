"""The forms of the edit screens: they parse what was typed, nothing more.

The business rules live in `approvals.services` and `invoices.rules`, so every caller gets the
same checks and messages; the documents a proposal produces are built in `approvals.documents`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from invoices import editable
from invoices.documents import references
from invoices.mirror import MAX_LINES

from .fields import DecimalText, IdField, SharedDecimal, SharedId, SharedIdList, SharedInteger, SharedText

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


def _with_current(choices: list, current: Any) -> list:
    """The standard choices, plus the invoice's own value when it is another spelling."""
    codes = {code for code, _label in choices}
    extra = [(str(current), str(current))] if current not in (None, "") and str(current) not in codes else []
    return [("", "—"), *choices, *extra]


def _with_reference(choices: list, current: Any) -> list:
    """The catalogue's entries, plus the invoice's own one when the catalogue no longer has it."""
    ident = references.reference_id(current)
    if ident and ident not in {code for code, _label in choices}:
        name = current.get("name") if isinstance(current, Mapping) else ""
        choices = [*choices, (ident, name or f"#{ident}")]
    return [("", "—"), *choices]


class InvoiceHeaderForm(forms.Form):
    base_hash = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)
    date = forms.CharField(label=_("Date"), max_length=10, required=False,
                           widget=forms.DateInput(attrs={"type": "date"}))
    dueDate = forms.CharField(label=_("Due date"), max_length=10, required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))
    client = IdField(label=_("Client"), widget=forms.HiddenInput)
    paymentForm = forms.ChoiceField(label=_("Payment form"), required=False)
    paymentMethod = forms.ChoiceField(label=_("Payment method"), required=False)
    seller = forms.ChoiceField(label=_("Seller"), required=False)
    priceList = forms.ChoiceField(label=_("Price list"), required=False)
    observations = forms.CharField(label=_("Observations"), required=False, strip=False,
                                   widget=forms.Textarea(attrs={"rows": 2}))
    anotation = forms.CharField(label=_("Printed note"), required=False, strip=False,
                                widget=forms.Textarea(attrs={"rows": 2}))
    termsConditions = forms.CharField(label=_("Terms and conditions"), required=False,
                                      strip=False, widget=forms.Textarea(attrs={"rows": 2}))
    reason = forms.CharField(label=_("Reason for the change"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, base: Mapping | None = None, sellers=(), price_lists=(), **kwargs):
        """`sellers` and `price_lists`: (id, name) of the mirrored catalogues the invoice may name."""
        super().__init__(*args, **kwargs)
        base = base or {}
        self.fields["paymentForm"].choices = _with_current(PAYMENT_FORMS, base.get("paymentForm"))
        self.fields["paymentMethod"].choices = _with_current(PAYMENT_METHODS, base.get("paymentMethod"))
        self.fields["seller"].choices = _with_reference(list(sellers), base.get("seller"))
        self.fields["priceList"].choices = _with_reference(list(price_lists), base.get("priceList"))


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

    def has_changed(self) -> bool:
        # Django would parse every value a second time to find out; the answer is always yes:
        # the taxes field reads an empty selection as [], which differs from no initial value,
        # so every posted line is a line (never an "empty extra form" left out of validation).
        return True

    def _clean_fields(self) -> None:
        # Django's own loop makes a bound field per value first (for disabled fields and
        # clean_<name> hooks, which a line has neither of): a third of a 500-line form's parsing.
        for name, field in self.fields.items():
            value = field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
            try:
                self.cleaned_data[name] = field.clean(value)
            except ValidationError as error:
                self.add_error(name, error)


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

    # Said on the line, in a credit note's words: a credit never takes a negative amount back.
    def clean_quantity(self):
        quantity = self.cleaned_data.get("quantity")
        if quantity is not None and quantity < 0:
            raise forms.ValidationError(_("Credit 0 or more (0 leaves the line out)."), code="negative")
        return quantity

    def clean_price(self):
        price = self.cleaned_data.get("price")
        if price is not None and price < 0:
            raise forms.ValidationError(_("The price credited cannot be negative."), code="negative")
        return price


class ContactForm(forms.Form):
    base_hash = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)
    identification = forms.CharField(label=_("Identification (NIT or cédula)"), required=False, max_length=100)
    email = forms.CharField(label=_("E-mail"), required=False, max_length=254)
    phonePrimary = forms.CharField(label=_("Phone"), required=False, max_length=100)
    phoneSecondary = forms.CharField(label=_("Second phone"), required=False, max_length=100)
    mobile = forms.CharField(label=_("Mobile"), required=False, max_length=100)
    address = forms.CharField(label=_("Address"), required=False, max_length=1000)
    city = forms.CharField(label=_("City"), required=False, max_length=1000)
    reason = forms.CharField(label=_("Reason for the change"), required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))
