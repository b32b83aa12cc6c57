"""Credit notes, contacts and the catalogue endpoints."""

import pytest

from alegra_sandbox import services

from .conftest import simple_invoice


@pytest.fixture
def stamped(account):
    invoice = simple_invoice(account)  # 2830.00
    return services.invoice_stamp(account, invoice["id"])


def note_body(invoice, amount, **extra):
    body = {"client": invoice["client"]["id"], "date": "2025-03-20", "type": "PRICE_ADJUSTMENT",
            "cause": "Precio mal digitado",
            "items": [{"id": 1, "price": "1000", "quantity": "1", "tax": [{"id": "3"}]}],
            "invoices": [{"id": invoice["id"], "amount": amount}]}
    body.update(extra)
    return body


def test_missing_type_is_code_9070(api, stamped):
    body = note_body(stamped, "1190")
    del body["type"]
    response = api.post("/credit-notes", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == 9070
    assert api.post("/credit-notes", json=note_body(stamped, "1190", type="NOPE")).json()["code"] == 9070


def test_note_lowers_the_balance_and_nothing_else(api, stamped):
    response = api.post("/credit-notes", json=note_body(stamped, "1190", stamp={"generateStamp": True}))
    assert response.status_code == 201
    note = response.json()
    assert (note["total"], note["balance"], note["type"]) == ("1190.00", "0.00", "PRICE_ADJUSTMENT")
    assert note["invoices"][0]["id"] == stamped["id"] and note["invoices"][0]["amount"] == "1190.00"
    assert len(note["stamp"]["cufe"]) == 96
    after = api.get(f"/invoices/{stamped['id']}").json()
    assert after["balance"] == "1640.00"
    assert {k: v for k, v in after.items() if k != "balance"} == {
        k: v for k, v in stamped.items() if k != "balance"}
    assert api.get(f"/credit-notes/{note['id']}").json() == note
    assert [n["id"] for n in api.get("/credit-notes").json()] == [note["id"]]
    assert api.get("/credit-notes/999").status_code == 404


def test_note_covering_the_balance_closes_the_invoice(api, stamped):
    api.post("/credit-notes", json=note_body(stamped, "1190"))
    body = note_body(stamped, "1640", items=[{"id": 1, "price": "1640", "quantity": "1"}])
    assert api.post("/credit-notes", json=body).status_code == 201
    after = api.get(f"/invoices/{stamped['id']}").json()
    assert (after["balance"], after["status"]) == ("0.00", "closed")


@pytest.mark.parametrize(("amount", "code"), [("5000", 3072), ("-1", 3072)])
def test_amount_above_the_balance_is_refused(api, stamped, amount, code):
    body = note_body(stamped, amount, items=[{"id": 1, "price": "9000", "quantity": "1"}])
    response = api.post("/credit-notes", json=body)
    assert response.status_code == 400 and response.json()["code"] == code
    assert api.get(f"/invoices/{stamped['id']}").json()["balance"] == "2830.00"
    assert api.get("/credit-notes").json() == []


def test_a_note_on_a_paid_invoice_names_it_and_stays_as_the_clients_credit(api, stamped):
    api.post("/credit-notes", json=note_body(stamped, "2830", items=[{"id": 1, "price": "2830", "quantity": "1"}]))
    paid = api.get(f"/invoices/{stamped['id']}").json()
    assert (paid["balance"], paid["status"]) == ("0.00", "closed")
    response = api.post("/credit-notes", json=note_body(stamped, "0"))  # a return after it was settled
    assert response.status_code == 201
    note = response.json()
    assert note["invoices"][0]["id"] == stamped["id"] and note["invoices"][0]["amount"] == "0.00"
    assert note["balance"] == note["total"] and note["status"] == "open"  # all of it is the client's credit
    assert api.get(f"/invoices/{stamped['id']}").json()["balance"] == "0.00"


def test_applied_amounts_cannot_exceed_the_note(api, stamped):
    body = note_body(stamped, "2000")  # the note totals 1190
    assert api.post("/credit-notes", json=body).json()["code"] == 3072


def test_note_refusals(api, account, stamped):
    other_client = services.catalogue_list(account, "contact", {"limit": "2"})[1]["id"]
    assert api.post("/credit-notes", json=note_body(stamped, "10", client=other_client)).status_code == 400
    body = note_body(stamped, "10")
    body["invoices"] = [{"id": "999", "amount": "10"}]
    assert api.post("/credit-notes", json=body).json()["code"] == 3073
    assert api.post("/credit-notes", json=note_body(stamped, "10", items=[])).status_code == 400
    assert api.post("/credit-notes", json=note_body(stamped, "10", client="9999")).json()["code"] == 3065


def test_contacts_create_list_and_put_resets_omitted_fields(api):
    created = api.post("/contacts", json={
        "name": "Tornillos del Sur S.A.S.", "identification": "900555444",
        "identificationObject": {"type": "NIT", "dv": "3"}, "email": "compras@tornillos.co",
        "type": ["client", "provider"], "address": {"address": "Cra 7 # 1-2", "city": "Pasto"},
        "mobile": "3001112233", "priceList": "2",
    })
    assert created.status_code == 201
    contact = created.json()
    assert contact["type"] == ["client", "provider"] and contact["priceList"]["id"] == "2"
    updated = api.put(f"/contacts/{contact['id']}", json={"name": "Tornillos del Sur"}).json()
    # As recorded: a PUT with only the name empties the type list (and the other fields).
    assert updated["name"] == "Tornillos del Sur"
    assert updated["type"] == [] and updated["email"] == "" and updated["priceList"] is None
    assert updated["identification"] == "900555444"
    assert api.get(f"/contacts/{contact['id']}").json() == updated
    found = api.get("/contacts", params={"query": "Tornillos"}).json()
    assert [c["id"] for c in found] == [contact["id"]]
    assert api.get("/contacts", params={"identification": "900555444"}).json()[0]["id"] == contact["id"]


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x", "email": "no-arroba"},
                                  {"name": "x", "type": ["enemy"]}, {"name": "x", "priceList": "99"},
                                  {"name": "x" * 151}])
def test_bad_contacts_are_refused(api, body):
    assert api.post("/contacts", json=body).status_code == 400


def test_contacts_page_and_metadata(api):
    body = api.get("/contacts", params={"metadata": "true", "limit": 10, "start": 20}).json()
    assert body["metadata"]["total"] == 25 and len(body["data"]) == 5
    assert api.get("/contacts", params={"limit": 31}).status_code == 400
    assert api.get("/contacts/0").status_code == 404


def test_item_has_price_lists_and_taxes(api):
    item = api.get("/items/34").json()
    assert item["name"] == "Mantenimiento preventivo"
    assert [p["idPriceList"] for p in item["price"]] == ["1", "2", "3"]
    assert item["price"][0]["price"] == "16746.218487"
    assert item["tax"][0]["percentage"] == "19.00"
    assert api.get("/items/999").status_code == 404
    assert len(api.get("/items", params={"start": 60}).json()) == 1


def test_small_catalogues(api):
    assert [t["percentage"] for t in api.get("/taxes").json()["results"]] == ["0.00", "5.00", "19.00", "8.00"]
    assert api.get("/taxes/3").json()["name"] == "IVA 19%"
    assert len(api.get("/retentions").json()) == 5
    assert {s["status"] for s in api.get("/sellers").json()} == {"active", "inactive"}
    assert api.get("/price-lists").json()[0] == {"id": "1", "name": "General", "status": "active", "type": "amount"}
    assert api.get("/warehouses").json()[0]["name"] == "Bodega principal"
    assert api.get("/number-templates").json()[0]["prefix"] == "FE"
