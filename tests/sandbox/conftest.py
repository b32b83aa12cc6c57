import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from alegra_sandbox import services
from alegra_sandbox.testing import make_account, make_client

FIXTURES = Path(settings.BASE_DIR).parent / "shared" / "alegra-fixtures"


def recorded(name: str):
    """A body from the shared Alegra recordings (the response body for cassettes)."""
    if not FIXTURES.is_dir():
        pytest.skip(f"the recorded Alegra bodies are not available at {FIXTURES}")
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"), parse_float=Decimal)
    return data


def recorded_response(name: str) -> dict:
    return recorded(name)[0]["response"]


@pytest.fixture
def account(db):
    """An account with the seeded catalogue (61 items, 25 clients) and no invoices."""
    return make_account()


@pytest.fixture
def api(account):
    with make_client(account) as client:
        yield client


@pytest.fixture
def recorded_account(db):
    """The 2016 recordings' world: precision 0, client "cliente", item1 40, item2 80, IVA 16 %."""
    account = make_account(decimal_precision=0, seed=None, with_catalogue=False)
    # Tax ids as in loduis-get.taxes.json: the recorded create request sends tax id 3 = IVA 16 %.
    services.base_catalogue_create(account, taxes=[
        {"id": "1", "name": "IVA", "percentage": "0.00", "description": "", "type": "IVA"},
        {"id": "2", "name": "IVA", "percentage": "5.00", "description": "", "type": "IVA"},
        {"id": "3", "name": "IVA", "percentage": "16.00", "description": "", "type": "IVA"},
    ])
    iva16 = services.catalogue_document(account, "tax", 3)
    services.contact_create(account, {
        "name": "cliente", "identification": "123456789", "email": "cliente@test.com",
        "phonePrimary": "", "mobile": "3004232123", "observations": "Este es un usuario de prueba",
        "address": {"address": "calle 1 # 3-2", "city": "Medellin"}, "type": ["client", "provider"],
        "priceList": "1",
    })
    services.item_create(account, name="item1", price="40", tax_ids=[iva16["id"]], reference="ref1",
                         description="item de venta 1")
    services.item_create(account, name="item2", price="80", tax_ids=[iva16["id"]], reference="ref2",
                         description="item2 de venta")
    account.iva16 = iva16["id"]
    return account


@pytest.fixture
def recorded_api(recorded_account):
    with make_client(recorded_account) as client:
        yield client


def recorded_invoice_body(tax_id: str) -> dict:
    """The body that produces recorded-simple_invoice.json (invoice 1, total 139)."""
    return {
        "date": "2016-10-12", "dueDate": "2016-10-12", "client": "1", "observations": "",
        "anotation": "invoice test", "priceList": "1",
        "items": [
            {"id": 1, "price": 40, "quantity": 1, "discount": 0, "tax": [{"id": tax_id}],
             "description": "item de venta 1", "reference": "ref1"},
            {"id": 2, "price": 80, "quantity": 1, "discount": 0, "tax": [{"id": tax_id}],
             "description": "item2 de venta", "reference": "ref2"},
        ],
    }


def first_client_id(account) -> str:
    return services.catalogue_list(account, "contact", {"limit": "1"})[0]["id"]


def simple_invoice(account, **overrides) -> dict:
    """An open invoice made as a person in Alegra's UI would: one client, two lines."""
    body = {
        "date": "2025-03-10", "dueDate": "2025-04-09", "client": first_client_id(account),
        "items": [
            {"id": 1, "price": "1000", "quantity": "2", "tax": [{"id": "3"}]},
            {"id": 2, "price": "500", "quantity": "1", "discount": "10", "tax": []},
        ],
    }
    body.update(overrides)
    return services.invoice_create(account, body)
