"""The Review filters, the dismissal and the month picker."""

import datetime
import re

from django import forms
from django.utils.translation import gettext_lazy as _

from portal import widgets

from .models import Finding

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
STATES = [("open", _("Open")), ("dismissed", _("Dismissed")), ("silenced", _("Silenced by learning")),
          ("resolved", _("Resolved")), ("all", _("All"))]
ORDERS = [("likely", _("Most likely first")), ("impact", _("Highest impact first"))]


def parse_month(text: str | None) -> datetime.date | None:
    match = MONTH.match((text or "").strip())
    if not match:
        return None
    year = int(match.group(1))
    return datetime.date(year, int(match.group(2)), 1) if 2000 <= year <= 2100 else None


class MonthField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("widget", widgets.TextInput(attrs={"type": "month", "placeholder": "2025-06"}))
        super().__init__(max_length=7, required=False, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value and parse_month(value) is None:
            raise forms.ValidationError(_("Write the month as yyyy-mm (for example 2025-06)."))
        return parse_month(value)


class ReviewFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All kinds")), *Finding.Kind.choices],
                             widget=widgets.Select)
    severity = forms.ChoiceField(label=_("Severity"), required=False,
                                 choices=[("", _("Any severity")), *Finding.Severity.choices],
                                 widget=widgets.Select)
    client = forms.CharField(label=_("Client"), required=False, max_length=100, widget=widgets.TextInput)
    month = MonthField(label=_("Month"))
    state = forms.ChoiceField(label=_("State"), required=False, choices=STATES, widget=widgets.Select)
    order = forms.ChoiceField(label=_("Order"), required=False, choices=ORDERS, widget=widgets.Select)
    show_hidden = forms.BooleanField(label=_("Show findings under the confidence threshold"), required=False)
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000, widget=widgets.HiddenInput)


class ReasonForm(forms.Form):
    def refusal(self, missing: str) -> str:
        """Why the reason was refused: `missing` when none was given, else the form's own words
        (one too long is told so, not that it is missing)."""
        errors = self.errors.get("reason")
        if errors and (self.data.get("reason") or "").strip():
            return str(errors[0])
        return missing


class DismissForm(ReasonForm):
    reason = forms.CharField(label=_("Why is it not a mistake?"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))
    # Unticked, the dismissal answers this finding alone; ticked (the default on the screens), it
    # teaches a learned exception for similar findings.
    learn = forms.BooleanField(label=_("Learn from it: stop flagging similar cases"), required=False,
                               initial=True)


class RevokeForm(ReasonForm):
    reason = forms.CharField(label=_("Why revoke it?"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ThresholdForm(forms.Form):
    hide_below = forms.DecimalField(label=_("Hide findings whose learned confidence is below"), min_value=0,
                                    max_value=1, decimal_places=3, max_digits=4)


FIXABLE = [("tax", _("Tax")), ("due_terms", _("Due date off the terms")), ("due_before_date", _("Due before its date")),
           ("price", _("Price")), ("quantity", _("Quantity")), ("discount", _("Discount"))]


class FixRuleForm(forms.Form):
    finding_kind = forms.ChoiceField(label=_("Kind of finding"), choices=FIXABLE)
    # As the company's country writes amounts ("50.000"), read by the service as the edit form's.
    max_impact = forms.CharField(label=_("Money impact up to"), max_length=40)
    name = forms.CharField(label=_("Name"), required=False, max_length=120)


class FixRuleEditForm(forms.Form):
    """A finding-fix rule's limit (as the company's country writes amounts: the service reads it)
    and whether it is on."""

    max_impact = forms.CharField(label=_("Money impact up to"), max_length=40)
    is_active = forms.BooleanField(label=_("On"), required=False)


class LearningFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), required=False, choices=[
        ("active", _("Active")), ("revoked", _("Revoked")), ("all", _("All"))], widget=widgets.Select)
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All kinds")), *Finding.Kind.choices],
                             widget=widgets.Select)
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000, widget=widgets.HiddenInput)


class MonthForm(forms.Form):
    month = MonthField(label=_("Month"))
