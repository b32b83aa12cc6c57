"""Contacts, items, taxes and the other catalogues; the company."""

from .. import services
from ..api import body_of, endpoint
from ..models import CatalogueKind


@endpoint("GET", "POST")
def contacts(request, account):
    if request.method == "POST":
        return services.contact_create(account, body_of(request)), 201
    return services.catalogue_list(account, CatalogueKind.CONTACT, request.GET)


@endpoint("GET", "PUT")
def contact(request, account, contact_id):
    if request.method == "PUT":
        return services.contact_update(account, contact_id, body_of(request))
    return services.catalogue_document(account, CatalogueKind.CONTACT, contact_id)


@endpoint("GET")
def items(request, account):
    return services.catalogue_list(account, CatalogueKind.ITEM, request.GET)


@endpoint("GET")
def item(request, account, item_id):
    return services.catalogue_document(account, CatalogueKind.ITEM, item_id)


@endpoint("GET")
def taxes(request, account):
    # Documented: some list answers are wrapped as {"total": "4", "results": [...]}.
    results = services.catalogue_list(account, CatalogueKind.TAX, request.GET, paged=False)
    return {"total": str(len(results)), "results": results}


@endpoint("GET")
def tax(request, account, tax_id):
    return services.catalogue_document(account, CatalogueKind.TAX, tax_id)


def _plain_list(kind):
    @endpoint("GET")
    def view(request, account):
        return services.catalogue_list(account, kind, request.GET, paged=False)

    view.__name__ = f"{kind}_list"
    return view


retentions = _plain_list(CatalogueKind.RETENTION)
sellers = _plain_list(CatalogueKind.SELLER)
price_lists = _plain_list(CatalogueKind.PRICE_LIST)
warehouses = _plain_list(CatalogueKind.WAREHOUSE)
number_templates = _plain_list(CatalogueKind.NUMBER_TEMPLATE)


@endpoint("GET")
def company(request, account):
    return services.company_document(account)
