from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portal import widgets

STATUS_CHOICES = [("", _("Any status")), ("draft", _("Draft")), ("open", _("Open")),
                  ("closed", pgettext_lazy("an invoice", "Paid")), ("void", _("Void"))]
DUE_CHOICES = [("", _("Any due date")), ("overdue", _("Overdue")), ("week", _("Due within 7 days"))]
YES_NO = [("", _("Any")), ("yes", _("Yes")), ("no", _("No"))]
SORT_CHOICES = [("-date", _("Newest first")), ("date", _("Oldest first")),
                ("-number", _("Number, high to low")), ("number", _("Number, low to high")),
                ("-total", _("Largest total")), ("total", _("Smallest total"))]


class InvoiceFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100,
                        widget=widgets.TextInput(attrs={"placeholder": _("Number or client"), "type": "search"}))
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False, widget=widgets.Select)
    client = forms.CharField(label=_("Client id"), required=False, max_length=36, widget=widgets.HiddenInput)
    date_from = forms.DateField(label=_("From"), required=False, widget=widgets.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=widgets.DateInput(attrs={"type": "date"}))
    due = forms.ChoiceField(label=_("Due"), choices=DUE_CHOICES, required=False, widget=widgets.Select)
    stamped = forms.ChoiceField(label=_("Stamped"), choices=YES_NO, required=False, widget=widgets.Select)
    balance = forms.ChoiceField(label=_("Has balance"), choices=YES_NO, required=False, widget=widgets.Select)
    sort = forms.ChoiceField(label=_("Sort"), choices=SORT_CHOICES, required=False, widget=widgets.Select)
    after = forms.CharField(required=False, max_length=200, widget=widgets.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data
