"""The audit log's filters (the page and its exports share them) and the version picker."""

from __future__ import annotations

import datetime

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from invoices.models import Invoice
from portal import widgets
from portal.models import Company, Membership

from . import queries
from .models import Action

SYSTEM = "system"
MAX_INVOICE_MATCHES = 20


def people_choices(company: Company) -> list[tuple[str, str]]:
    """Everyone with a role in the company, deactivated people included (their names stay)."""
    members = (Membership.objects.filter(company=company).select_related("user")
               .order_by("user__first_name", "user__last_name", "user__username"))
    choices = [("", _("Anyone")), (SYSTEM, _("The system (sync, push, policies)"))]
    for membership in members:
        user = membership.user
        name = user.get_full_name() or user.get_username()
        if not user.is_active:
            name = _("%(name)s (deactivated)") % {"name": name}
        choices.append((str(user.pk), f"{name} · {membership.get_role_display()}"))
    return choices


class AuditFilterForm(forms.Form):
    date_from = forms.DateField(label=_("From"), required=False,
                                widget=widgets.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=widgets.DateInput(attrs={"type": "date"}))
    person = forms.ChoiceField(label=_("Person"), required=False, widget=widgets.Select)
    invoice = forms.CharField(label=_("Invoice"), required=False, max_length=60,
                              widget=widgets.TextInput(attrs={"placeholder": _("Number or Alegra id"),
                                                              "type": "search"}))
    action = forms.ChoiceField(label=_("Action"), required=False,
                               choices=[("", _("Any action")), *Action.choices], widget=widgets.Select)
    after = forms.CharField(required=False, max_length=60, widget=widgets.HiddenInput)

    def __init__(self, *args, company: Company, **kwargs):
        super().__init__(*args, **kwargs)
        self.company = company
        self.fields["person"].choices = people_choices(company)
        self.invoice_ids: tuple[int, ...] | None = None

    def clean_invoice(self) -> str:
        text = self.cleaned_data["invoice"].strip()
        if not text:
            return ""
        ids = tuple(Invoice.objects.filter(company=self.company)
                    .filter(Q(number=text) | Q(alegra_id=text)).order_by("id")
                    .values_list("id", flat=True)[:MAX_INVOICE_MATCHES])
        if not ids:
            raise forms.ValidationError(_("No invoice of this company has the number or id “%(value)s”."),
                                        params={"value": text[:60]})
        self.invoice_ids = ids
        return text

    def clean_after(self):
        text = self.cleaned_data["after"]
        if not text:
            return None
        cursor = queries.decode_cursor(text)
        if cursor is None:
            raise forms.ValidationError(_("This page link is not valid; start again from the first page."))
        return cursor

    # Whole days in the company's zone, the end one day past: at the calendar's ends that day, or
    # the zone's offset, is past what a date can hold (a 500 for 9999-12-31).
    FIRST_YEAR, LAST_YEAR = 1900, 2999

    def clean(self):
        data = super().clean()
        for name in ("date_from", "date_to"):
            day = data.get(name)
            if day and not self.FIRST_YEAR <= day.year <= self.LAST_YEAR:
                self.add_error(name, _("Enter a date between the years %(first)s and %(last)s.")
                               % {"first": self.FIRST_YEAR, "last": self.LAST_YEAR})
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def filters(self) -> queries.Filters:
        """The selection (call after is_valid); dates are whole days in the company's time zone."""
        data = self.cleaned_data
        zone = queries.company_zone(self.company)

        def midnight(day: datetime.date) -> datetime.datetime:
            return datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)

        return queries.Filters(
            start=midnight(data["date_from"]) if data.get("date_from") else None,
            end=midnight(data["date_to"] + datetime.timedelta(days=1)) if data.get("date_to") else None,
            actor=data.get("person") or "",
            invoice_ids=self.invoice_ids,
            action=data.get("action") or "",
        )


class CompareForm(forms.Form):
    """Two versions of one invoice, by history id (the view checks they are this invoice's)."""

    a = forms.IntegerField(label=_("Version"), min_value=1, max_value=2**62)
    b = forms.IntegerField(label=_("compared with"), min_value=1, max_value=2**62)
