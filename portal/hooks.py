"""What the tenancy core tells the layers above it, without importing them.

`portal` is the lowest layer: approvals, audit and the rest register a function here in
their `AppConfig.ready()`, and the company services call every registered function at the
documented moment. Registration is explicit and idempotent (the same function twice is kept once).
"""

from __future__ import annotations

from collections.abc import Callable

# (company) just after a company is created, inside the transaction that creates it.
_company_created: list[Callable] = []


def on_company_created(function: Callable) -> None:
    if function not in _company_created:
        _company_created.append(function)


def company_created(company) -> None:
    for function in _company_created:
        function(company)


# (membership, user) -> list of portal.home.Panel: what a company's home page shows this person.
# Each layer adds the panels about its own things (requests, findings, the mirror's freshness).
_home_panels: list[Callable] = []


def on_home_panels(function: Callable) -> None:
    if function not in _home_panels:
        _home_panels.append(function)


def home_panels(membership, user) -> list:
    panels = [panel for function in _home_panels for panel in function(membership, user)]
    return sorted(panels, key=lambda panel: panel.order)
