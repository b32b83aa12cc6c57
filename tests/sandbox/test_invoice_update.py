"""PUT /invoices/{id}: partial bodies, full line replacement, recomputed totals, refusals."""

import pytest

from alegra_sandbox import services
from alegra_sandbox.errors import SandboxError

from .conftest import recorded_invoice_body, simple_invoice


@pytest.fixture
def invoice_one(recorded_account):
    return services.invoice_create(recorded_account, recorded_invoice_body(recorded_account.iva16))


def test_partial_put_changes_only_what_was_sent(recorded_api, invoice_one):
    response = recorded_api.put(f"/invoices/{invoice_one['id']}",
                                json={"observations": "Revisada", "dueDate": "2016-11-12",
                                      "paymentForm": "CREDIT", "paymentMethod": "transfer"})
    assert response.status_code == 200
    body = response.json()
    assert (body["observations"], body["dueDate"], body["paymentForm"], body["paymentMethod"]) == (
        "Revisada", "2016-11-12", "CREDIT", "TRANSFER")
    unchanged = {k: v for k, v in invoice_one.items()
                 if k not in {"observations", "dueDate", "paymentForm", "paymentMethod"}}
    assert {k: body[k] for k in unchanged} == unchanged


def test_items_replace_every_line_and_totals_follow(recorded_api, recorded_account, invoice_one):
    tax = recorded_account.iva16
    response = recorded_api.put(f"/invoices/{invoice_one['id']}", json={"items": [
        {"id": 2, "price": 80, "quantity": 1, "discount": 10, "tax": [{"id": tax}], "description": "x"},
    ]})
    body = response.json()
    assert response.status_code == 200
    assert len(body["items"]) == 1
    line = body["items"][0]
    assert (line["name"], line["price"], line["discount"], line["quantity"], line["total"]) == (
        "item2", "80", "10.00", "1.00", "84")
    assert (body["subtotal"], body["discount"], body["tax"], body["total"], body["balance"]) == (
        "80", "8", "12", "84", "84")
    assert recorded_api.get(f"/invoices/{invoice_one['id']}").json() == body


def test_recorded_lines_give_139(recorded_api, recorded_account, invoice_one):
    body = recorded_api.put(f"/invoices/{invoice_one['id']}",
                            json={"items": recorded_invoice_body(recorded_account.iva16)["items"]}).json()
    assert [i["total"] for i in body["items"]] == ["46", "93"]
    assert body["total"] == "139"


def test_computed_fields_in_the_body_are_ignored(api, account):
    invoice = simple_invoice(account)
    body = api.put(f"/invoices/{invoice['id']}", json={
        "total": "1", "subtotal": "1", "balance": "1", "totalPaid": "99", "id": "999",
        "numberTemplate": {"fullNumber": "X1"}, "stamp": {"cufe": "x"},
        "items": [{"id": 1, "price": "1000", "quantity": "1", "tax": [{"id": "3"}], "total": "5"}],
    }).json()
    assert body["id"] == invoice["id"]
    assert (body["total"], body["totalPaid"], body["balance"]) == ("1190.00", "0.00", "1190.00")
    assert body["items"][0]["total"] == "1190.00"
    assert "stamp" not in body and body["numberTemplate"] == invoice["numberTemplate"]


def test_a_line_without_name_takes_the_catalogue_name_and_price(api, account):
    invoice = simple_invoice(account)
    item = api.get("/items/5").json()
    body = api.put(f"/invoices/{invoice['id']}", json={"items": [{"id": 5, "quantity": 1}]}).json()
    assert body["items"][0]["name"] == item["name"]
    assert body["items"][0]["price"].startswith(item["price"][0]["price"].split(".")[0])
    assert body["items"][0]["tax"] == []  # taxes come only from the line, as recorded


def refused(api, invoice_id, changes) -> dict:
    response = api.put(f"/invoices/{invoice_id}", json=changes)
    assert response.status_code == 400, response.text
    body = response.json()
    assert isinstance(body["code"], int) and isinstance(body["message"], str)
    return body


@pytest.mark.parametrize(("line", "code"), [
    ({"id": 999, "quantity": 1}, 3064),
    ({"id": 1, "quantity": 1, "tax": [{"id": "99"}]}, 3063),
    ({"id": 1, "quantity": 0}, 3066),
    ({"id": 1, "quantity": "-2"}, 3066),
    ({"id": 1}, 3066),
    ({"id": 1, "quantity": 1, "price": -1}, 3067),
    ({"id": 1, "quantity": 1, "price": "mil"}, 3067),
    ({"id": 1, "quantity": 1, "discount": 101}, 3068),
    ({"id": 1, "quantity": 1, "discount": -1}, 3068),
    ({"id": 1, "quantity": 1, "description": "x" * 501}, 1006),
    ({"quantity": 1}, 1004),
])
def test_bad_lines_are_refused(api, account, line, code):
    invoice = simple_invoice(account)
    assert refused(api, invoice["id"], {"items": [line]})["code"] == code
    assert api.get(f"/invoices/{invoice['id']}").json() == invoice


@pytest.mark.parametrize(("changes", "code"), [
    ({"client": "99999"}, 3065),
    ({"observations": "x" * 501}, 1006),
    ({"anotation": "x" * 501}, 1006),
    ({"termsConditions": "x" * 501}, 1006),
    ({"date": "2025-13-01"}, 3069),
    ({"paymentForm": "LATER"}, 1005),
    ({"items": "all"}, 1004),
    ({"retentions": [{"id": "77"}]}, 1005),
])
def test_bad_fields_are_refused(api, account, changes, code):
    invoice = simple_invoice(account)
    assert refused(api, invoice["id"], changes)["code"] == code


def test_text_of_exactly_500_is_accepted(api, account):
    invoice = simple_invoice(account)
    assert api.put(f"/invoices/{invoice['id']}", json={"observations": "x" * 500}).status_code == 200


def test_stamped_invoice_is_refused(api, account):
    invoice = simple_invoice(account)
    services.invoice_stamp(account, invoice["id"])
    body = refused(api, invoice["id"], {"observations": "cambio"})
    assert body["code"] == 3060 and "nota crédito" in body["message"]


def test_void_invoice_is_refused_until_reopened(api, account):
    invoice = simple_invoice(account)
    assert api.post(f"/invoices/{invoice['id']}/void").json()["status"] == "void"
    assert refused(api, invoice["id"], {"observations": "cambio"})["code"] == 3061
    assert api.post(f"/invoices/{invoice['id']}/open").json()["status"] == "open"
    assert api.put(f"/invoices/{invoice['id']}", json={"observations": "cambio"}).status_code == 200


def test_total_below_what_was_paid_is_refused(api, account):
    invoice = simple_invoice(account)  # 2830.00
    services.invoice_pay(account, invoice["id"], "2000")
    body = refused(api, invoice["id"], {"items": [{"id": 1, "price": "1000", "quantity": "1"}]})
    assert body["code"] == 3062
    ok = api.put(f"/invoices/{invoice['id']}", json={"items": [{"id": 1, "price": "2000", "quantity": "1"}]})
    assert ok.status_code == 200
    assert (ok.json()["total"], ok.json()["totalPaid"], ok.json()["balance"]) == ("2000.00", "2000.00", "0.00")
    assert ok.json()["status"] == "closed"
    reopened = api.put(f"/invoices/{invoice['id']}", json={"items": [{"id": 1, "price": "2500", "quantity": "1"}]})
    assert reopened.json()["status"] == "open" and reopened.json()["balance"] == "500.00"


def test_service_update_is_the_same_path_as_put(account):
    invoice = simple_invoice(account)
    with pytest.raises(SandboxError) as refused_error:
        services.invoice_update(account, invoice["id"], {"items": [{"id": 1, "quantity": 0}]})
    assert refused_error.value.code == 3066
    updated = services.invoice_update(account, invoice["id"], {"anotation": "Gracias"})
    assert updated["anotation"] == "Gracias"


def test_void_is_refused_with_payments_and_for_stamped(api, account):
    paid = simple_invoice(account)
    services.invoice_pay(account, paid["id"], "10")
    response = api.post(f"/invoices/{paid['id']}/void")
    assert response.status_code == 400 and response.json()["code"] == 3070
    stamped = simple_invoice(account)
    services.invoice_stamp(account, stamped["id"])
    assert api.post(f"/invoices/{stamped['id']}/void").json()["code"] == 3060
    assert api.post(f"/invoices/{stamped['id']}/open").status_code == 400


def test_delete(api, account):
    invoice = simple_invoice(account)
    response = api.delete(f"/invoices/{invoice['id']}")
    assert response.status_code == 200 and response.json()["code"] == 200
    assert api.get(f"/invoices/{invoice['id']}").status_code == 404
    stamped = simple_invoice(account)
    services.invoice_stamp(account, stamped["id"])
    assert api.delete(f"/invoices/{stamped['id']}").status_code == 400


def test_payments_close_the_invoice(account):
    invoice = simple_invoice(account)
    services.invoice_pay(account, invoice["id"], "830", date="2025-03-15")
    doc = services.invoice_pay(account, invoice["id"], "2000")
    assert doc["status"] == "closed" and doc["balance"] == "0.00" and doc["totalPaid"] == "2830.00"
    assert [p["amount"] for p in doc["payments"]] == ["830.00", "2000.00"]
    with pytest.raises(SandboxError):
        services.invoice_pay(account, invoice["id"], "1")


def test_stamp_statuses(account):
    invoice = simple_invoice(account)
    doc = services.invoice_stamp(account, invoice["id"], legal_status="STAMPED_AND_ACCEPTED_WITH_OBSERVATIONS")
    assert doc["stamp"]["legalStatus"] == "STAMPED_AND_ACCEPTED_WITH_OBSERVATIONS"
    assert doc["stamp"]["warnings"]
    draft = simple_invoice(account, status="draft")
    with pytest.raises(SandboxError):
        services.invoice_stamp(account, draft["id"])


def test_email_needs_addresses(api, account):
    invoice = simple_invoice(account)
    assert api.post(f"/invoices/{invoice['id']}/email", json={"emails": []}).status_code == 400
    assert api.post(f"/invoices/{invoice['id']}/email", json={"emails": ["no-at"]}).status_code == 400
    assert api.post("/invoices/999/email", json={"emails": ["a@b.co"]}).status_code == 404
