from django.contrib import admin

from .models import Company, Membership


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    # The token cipher is never shown; tokens are set with manage.py add_company.
    list_display = ["name", "country", "base_url", "api_email", "decimal_precision"]
    exclude = ["token_cipher"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "company", "role"]
    list_filter = ["role", "company"]
