from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Company, Membership
from .services import COMPANY_FIELDS, TenancyError, company_create, company_update

CREATE_FIELDS = ("name", "country", "base_url", "api_email", "currency", "decimal_precision")
TOKEN_AGAIN = _("Changing the API base URL requires the API token again.")


class CompanyForm(forms.ModelForm):
    # Write-only: never rendered back, stored encrypted by the service.
    token = forms.CharField(label=_("API token"), required=False, widget=forms.PasswordInput(render_value=False),
                            help_text=_("Stored encrypted and never shown. Required for a new company "
                                        "and whenever the API base URL changes; blank keeps the stored one."))

    class Meta:
        model = Company
        fields = [*COMPANY_FIELDS, "token_from_env"]

    def clean(self):
        data = super().clean()
        token = (data.get("token") or "").strip()
        if self.instance.pk is None:
            if not token and not data.get("token_from_env"):
                self.add_error("token", _("Give the API token (or read it from ALEGRA_TOKEN)."))
        elif "base_url" in self.changed_data and not token:
            self.add_error("token", TOKEN_AGAIN)
        data["token"] = token
        return data


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    # Every write goes through the company services: a new company gets its defaults, a new
    # API host needs the token again. The token cipher is never shown.
    form = CompanyForm
    list_display = ["name", "country", "base_url", "api_email", "decimal_precision"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return [*CREATE_FIELDS, "token", "token_from_env"]
        return [*COMPANY_FIELDS, "token"]

    def save_form(self, request, form, change):
        data = form.cleaned_data
        try:
            if change:
                return company_update(company=form.instance, token=data["token"],
                                      **{name: data[name] for name in COMPANY_FIELDS if name in data})
            return company_create(token=data["token"], token_from_env=bool(data.get("token_from_env")),
                                  **{name: data[name] for name in CREATE_FIELDS})
        except (TenancyError, ValidationError) as error:  # raced past the form's own checks
            raise ValidationError(str(error)) from None

    def save_model(self, request, obj, form, change):
        """Saved by `save_form` through the services."""

    def save_related(self, request, form, formsets, change):
        """A company has no many-to-many fields of its own."""


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "company", "role"]
    list_filter = ["role", "company"]
