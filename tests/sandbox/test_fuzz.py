"""Whatever a client sends, the sandbox answers with a status below 500 and a JSON body."""

import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from .conftest import simple_invoice

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.text(max_size=12),
                    st.sampled_from(["1", "0", "-1", "1e999", "1e-30", "NaN", "", "2025-02-30", "abc"]),
                    st.decimals(allow_nan=False, allow_infinity=False))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=8)
line = st.fixed_dictionaries({}, optional={
    "id": st.one_of(st.integers(-2, 70), values), "price": values, "quantity": values,
    "discount": values, "tax": st.one_of(st.lists(st.fixed_dictionaries({"id": values}), max_size=2), values),
    "description": values, "name": values, "reference": values,
})
bodies = st.one_of(values, st.fixed_dictionaries({}, optional={
    "items": st.one_of(st.lists(line, max_size=3), values), "client": values, "date": values,
    "dueDate": values, "observations": values, "paymentForm": values, "seller": values,
    "priceList": values, "retentions": values, "status": values, "stamp": values,
}))


def _encode(body) -> bytes:
    return json.dumps(body, default=str).encode()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
@example(body={"stamp": None, "observations": "\U000cb762\x1c\x00!\x96"})  # PostgreSQL stores no NUL
def test_put_and_post_never_fail_with_500(api, account, body):
    invoice_id = simple_invoice(account)["id"]
    for method, path in (("PUT", f"/invoices/{invoice_id}"), ("POST", "/invoices"),
                         ("POST", "/credit-notes"), ("POST", "/contacts")):
        response = api.request(method, path, content=_encode(body))
        assert response.status_code < 500, (method, path, response.text)
        assert isinstance(response.json(), dict)


def test_a_text_no_database_stores_is_refused_and_changes_nothing(api, account):
    invoice = simple_invoice(account)
    before = api.get(f"/invoices/{invoice['id']}").json()
    for text in ('"nota \\u0000 final"', '"medio \\ud800 par"', '{"clave\\u0000": 1}'):
        raw = ('{"observations": %s}' % text).encode()
        for method, path in (("PUT", f"/invoices/{invoice['id']}"), ("POST", "/invoices"), ("POST", "/contacts")):
            response = api.request(method, path, content=raw)
            assert response.status_code == 400, (method, path, text, response.text)
            assert "nulo" in response.json()["message"]
    assert api.get(f"/invoices/{invoice['id']}").json() == before
