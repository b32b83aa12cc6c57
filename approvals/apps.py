from django.apps import AppConfig


def _defaults_for_new_company(company) -> None:
    from .services.decisions import policies_ensure_defaults

    policies_ensure_defaults(company=company)


class ApprovalsConfig(AppConfig):
    name = "approvals"

    def ready(self) -> None:
        from portal import hooks

        # A company starts with the default routing policies, created by the system.
        hooks.on_company_created(_defaults_for_new_company)
