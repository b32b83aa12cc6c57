"""The Review filters, the dismissal and the month picker."""

import datetime
import re

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Finding

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
STATES = [("open", _("Open")), ("dismissed", _("Dismissed")), ("resolved", _("Resolved")), ("all", _("All"))]


def parse_month(text: str | None) -> datetime.date | None:
    match = MONTH.match((text or "").strip())
    if not match:
        return None
    year = int(match.group(1))
    return datetime.date(year, int(match.group(2)), 1) if 2000 <= year <= 2100 else None


class MonthField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"type": "month", "placeholder": "2025-06"}))
        super().__init__(max_length=7, required=False, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value and parse_month(value) is None:
            raise forms.ValidationError(_("Write the month as yyyy-mm (for example 2025-06)."))
        return parse_month(value)


class ReviewFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All kinds")), *Finding.Kind.choices])
    severity = forms.ChoiceField(label=_("Severity"), required=False,
                                 choices=[("", _("Any severity")), *Finding.Severity.choices])
    client = forms.CharField(label=_("Client"), required=False, max_length=100)
    month = MonthField(label=_("Month"))
    state = forms.ChoiceField(label=_("State"), required=False, choices=STATES)
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000, widget=forms.HiddenInput)


class DismissForm(forms.Form):
    reason = forms.CharField(label=_("Why is it not a mistake?"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class MonthForm(forms.Form):
    month = MonthField(label=_("Month"))
