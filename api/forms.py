from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Event, Scope
from .services import MAX_EXPIRY_DAYS, MAX_NAME


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=MAX_NAME,
                           widget=forms.TextInput(attrs={"placeholder": _("ERP nightly")}))
    scopes = forms.MultipleChoiceField(label=_("Scopes"), choices=Scope.choices,
                                       widget=forms.CheckboxSelectMultiple)
    expires_days = forms.IntegerField(label=_("Expires after (days)"), required=False, min_value=1,
                                      max_value=MAX_EXPIRY_DAYS)
    for_agent = forms.BooleanField(label=_("For an AI agent: its proposals always wait for a person"),
                                   required=False)

    def __init__(self, *args, allowed: frozenset[str], **kwargs):
        super().__init__(*args, **kwargs)
        # Only what the person's role allows is offered (the service refuses the rest anyway).
        self.fields["scopes"].choices = [(value, label) for value, label in Scope.choices if value in allowed]


class SubscriptionForm(forms.Form):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https",
                         widget=forms.URLInput(attrs={"placeholder": "https://erp.example.com/hooks/enmienda"}))
    events = forms.MultipleChoiceField(label=_("Events"), choices=Event.choices, widget=forms.CheckboxSelectMultiple)
