"""Auth, errors, listing, filters and ordering of GET /invoices."""

import base64

import httpx
import pytest

from alegra_sandbox import services
from alegra_sandbox.models import SandboxRequestLog
from alegra_sandbox.testing import BASE_URL, SandboxTransport

from .conftest import simple_invoice


def raw_client(headers=None):
    return httpx.Client(base_url=BASE_URL, transport=SandboxTransport(), headers=headers or {})


@pytest.mark.parametrize("authorization", [
    None,
    "Bearer abc",
    "Basic !!!not-base64!!!",
    "Basic " + base64.b64encode(b"no-colon").decode(),
])
def test_missing_or_malformed_auth_is_401(account, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    with raw_client(headers) as client:
        response = client.get("/invoices")
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == 401 and "token" in body["message"]
    assert response.headers["Content-Type"] == "text/html; charset=UTF-8"
    assert not SandboxRequestLog.objects.filter(account=account).exists()


def test_wrong_token_or_unknown_user_is_401(account):
    for auth in ((account.email, "wrong"), ("nobody@example.com", account.token)):
        with httpx.Client(base_url=BASE_URL, transport=SandboxTransport(), auth=auth) as client:
            assert client.get("/company").status_code == 401
    assert not SandboxRequestLog.objects.filter(account=account).exists()


def test_data_is_per_account(account, api):
    invoice = simple_invoice(account)
    other = services.account_create(email="otra@example.com", token="otro-token")
    with httpx.Client(base_url=BASE_URL, transport=SandboxTransport(), auth=(other.email, other.token)) as client:
        assert client.get(f"/invoices/{invoice['id']}").status_code == 404
        assert client.get("/invoices").json() == []
    assert api.get(f"/invoices/{invoice['id']}").status_code == 200


def test_not_found_and_method_not_allowed(api):
    response = api.get("/invoices/424242")
    assert response.status_code == 404
    assert response.json() == {"error": "La factura con id 424242 no existe.", "code": 404}
    assert api.get("/invoices/abc").status_code == 404
    response = api.patch("/invoices")
    assert response.status_code == 405 and response.json()["code"] == 405


@pytest.mark.parametrize("content", [b"{not json", b"", b"\xff\xfe", b"NaN", b'{"a": Infinity}'])
def test_bad_json_is_400_in_spanish(api, content):
    response = api.post("/invoices", content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["code"] == 1001
    assert "JSON" in response.json()["message"] or "vacío" in response.json()["message"]


def test_body_must_be_an_object(api):
    response = api.post("/invoices", json=[1, 2])
    assert response.status_code == 400 and response.json()["message"].endswith("debe ser un objeto JSON.")


@pytest.mark.parametrize("limit", ["31", "100"])
def test_limit_above_30_is_refused(api, limit):
    response = api.get("/invoices", params={"limit": limit})
    assert response.status_code == 400
    assert response.json() == {"code": 1003,
                               "message": "El límite de elementos por consulta no puede ser mayor a 30."}


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "-1"}, {"start": "x"}, {"start": "-5"},
                                    {"order_field": "total"}, {"order_direction": "UP"},
                                    {"status": "paid"}, {"date": "12/10/2016"}, {"client_id": "abc"}])
def test_bad_list_parameters_are_400(api, params):
    response = api.get("/invoices", params=params)
    assert response.status_code == 400
    assert isinstance(response.json()["message"], str)


@pytest.fixture
def listed(account):
    clients = [c["id"] for c in services.catalogue_list(account, "contact", {"limit": "3"})]
    made = [
        simple_invoice(account, date="2025-01-05", dueDate="2025-02-04", client=clients[0]),
        simple_invoice(account, date="2025-03-01", dueDate="2025-03-01", client=clients[1]),
        simple_invoice(account, date="2025-02-10", dueDate="2025-03-12", client=clients[0], status="draft"),
        simple_invoice(account, date="2025-03-01", dueDate="2025-05-30", client=clients[2]),
        simple_invoice(account, date="2024-12-20", dueDate="2025-01-19", client=clients[1]),
    ]
    services.invoice_void(account, made[3]["id"])
    return clients, [m["id"] for m in made]


def ids(response):
    assert response.status_code == 200, response.text
    return [invoice["id"] for invoice in response.json()]


def test_default_order_is_newest_id_first_with_paging(api, listed):
    _, made = listed
    assert ids(api.get("/invoices")) == list(reversed(made))
    assert ids(api.get("/invoices", params={"start": 1, "limit": 2})) == [made[3], made[2]]
    assert ids(api.get("/invoices", params={"start": 10})) == []


def test_metadata_wraps_the_page_with_the_total(api, listed):
    body = api.get("/invoices", params={"metadata": "true", "limit": 2, "status": "open"}).json()
    assert set(body) == {"metadata", "data"}
    assert body["metadata"] == {"total": 3}
    assert len(body["data"]) == 2


def test_ordering(api, listed):
    _, made = listed
    assert ids(api.get("/invoices", params={"order_field": "date", "order_direction": "ASC"})) == [
        made[4], made[0], made[2], made[1], made[3]]
    assert ids(api.get("/invoices", params={"order_field": "date", "order_direction": "DESC"})) == [
        made[3], made[1], made[2], made[0], made[4]]
    assert ids(api.get("/invoices", params={"order_field": "dueDate"}))[:2] == [made[4], made[0]]
    assert ids(api.get("/invoices", params={"order_field": "id", "order_direction": "ASC"})) == made
    statuses = [i["status"] for i in api.get("/invoices", params={"order_field": "status"}).json()]
    assert statuses == sorted(statuses)


def test_filters(api, listed):
    clients, made = listed
    assert ids(api.get("/invoices", params={"status": "draft"})) == [made[2]]
    assert ids(api.get("/invoices", params={"status": "void"})) == [made[3]]
    assert ids(api.get("/invoices", params={"client_id": clients[0]})) == [made[2], made[0]]
    assert ids(api.get("/invoices", params={"date": "2025-03-01"})) == [made[3], made[1]]
    assert ids(api.get("/invoices", params={"date_afterOrNow": "2025-02-10"})) == [made[3], made[2], made[1]]
    assert ids(api.get("/invoices", params={"date_beforeOrNow": "2025-01-05"})) == [made[4], made[0]]
    assert ids(api.get("/invoices", params={"date_after": "2025-02-10", "date_before": "2025-12-31"})) == [
        made[3], made[1]]
    assert ids(api.get("/invoices", params={"dueDate_afterOrNow": "2025-03-12"})) == [made[3], made[2]]
    assert ids(api.get("/invoices", params={"dueDate_beforeOrNow": "2025-01-19"})) == [made[4]]
    full_number = api.get(f"/invoices/{made[1]}").json()["numberTemplate"]["fullNumber"]
    assert ids(api.get("/invoices", params={"numberTemplate_fullNumber": full_number})) == [made[1]]
    name = api.get(f"/invoices/{made[0]}").json()["client"]["name"]
    assert made[0] in ids(api.get("/invoices", params={"query": name[:6]}))


def test_create_validates_and_answers_201(api, account):
    client_id = services.catalogue_list(account, "contact", {"limit": "1"})[0]["id"]
    response = api.post("/invoices", json={"client": {"id": client_id}, "date": "2025-06-01",
                                           "items": [{"id": 3, "price": 100, "quantity": 1}]})
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "open" and body["dueDate"] == "2025-06-01"
    assert body["numberTemplate"]["fullNumber"] == f"FE{body['id']}"
    assert body["items"][0]["name"]  # taken from the catalogue
    assert api.post("/invoices", json={"items": [{"id": 1, "quantity": 1}]}).status_code == 400
    assert api.post("/invoices", json={"client": client_id, "items": []}).status_code == 400
    refused = api.post("/invoices", json={"client": client_id, "date": "2025-06-02", "dueDate": "2025-06-01",
                                          "items": [{"id": 1, "quantity": 1}]})
    assert refused.status_code == 400 and refused.json()["code"] == 3069


def test_create_with_generate_stamp_is_stamped(api, account):
    client_id = services.catalogue_list(account, "contact", {"limit": "1"})[0]["id"]
    body = api.post("/invoices", json={"client": client_id, "items": [{"id": 1, "quantity": 2}],
                                       "stamp": {"generateStamp": True}}).json()
    assert body["stamp"]["legalStatus"] == "STAMPED_AND_ACCEPTED"
    assert len(body["stamp"]["cufe"]) == 96
    assert set(body["stamp"]) == {"legalStatus", "cufe", "barCodeContent", "date", "warnings"}


def test_trailing_slash_is_accepted(api, listed):
    assert api.get("/invoices/").status_code == 200


def test_every_authenticated_request_is_logged(api, account, listed):
    _, made = listed
    api.get("/invoices")
    api.put(f"/invoices/{made[0]}", json={"observations": "x"})
    api.put(f"/invoices/{made[0]}", json={"observations": "y"})
    api.get("/invoices", params={"limit": 99})
    logs = SandboxRequestLog.objects.filter(account=account)
    assert logs.filter(method="PUT", status=200).count() == 2
    assert logs.filter(method="GET", status=400).count() == 1
    assert logs.get(method="GET", status=200).path == "/sandbox/api/v1/invoices"
