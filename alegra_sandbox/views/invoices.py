"""Invoice endpoints: thin wrappers over services.invoices."""

from .. import services
from ..api import body_of, endpoint


@endpoint("GET", "POST")
def invoices(request, account):
    if request.method == "POST":
        return services.invoice_create(account, body_of(request)), 201
    return services.invoice_list(account, request.GET)


@endpoint("GET", "PUT", "DELETE")
def invoice(request, account, invoice_id):
    if request.method == "PUT":
        return services.invoice_update(account, invoice_id, body_of(request))
    if request.method == "DELETE":
        return services.invoice_delete(account, invoice_id)
    return services.invoice_get(account, invoice_id)


@endpoint("POST")
def invoice_void(request, account, invoice_id):
    return services.invoice_void(account, invoice_id)


@endpoint("POST")
def invoice_open(request, account, invoice_id):
    return services.invoice_open(account, invoice_id)


@endpoint("POST")
def invoice_email(request, account, invoice_id):
    return services.invoice_email(account, invoice_id, body_of(request))


@endpoint("GET", "POST")
def credit_notes(request, account):
    if request.method == "POST":
        return services.credit_note_create(account, body_of(request)), 201
    return services.credit_note_list(account, request.GET)


@endpoint("GET")
def credit_note(request, account, note_id):
    return services.credit_note_get(account, note_id)
