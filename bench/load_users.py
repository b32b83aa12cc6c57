"""The people of the load test (a Locust file; `bench/load.py` runs it, with the users it made).

Accountants browse the invoice list and invoices and propose corrections on the edit screen
(with its live recompute); approvers work their inbox (open the diff, approve or reject);
managers read the audit log, filter it, export it and open invoice histories. Every request
is named by page, so the figures come out per page.

Reads BENCH_USERS (a JSON file: password and, per role, username and company id).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import uuid
from datetime import date
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser

from locust import HttpUser, between, task

PEOPLE = json.loads(open(os.environ["BENCH_USERS"]).read())
_next = {role: itertools.count() for role in ("accountants", "approvers", "managers")}

INVOICE_LINK = re.compile(r'href="/c/\d+/invoices/(\d+)/"')
DECIDE_FORM = re.compile(r'action="/c/\d+/requests/(\d+)/decide/"')
REQUEST_LINK = re.compile(r"/requests/(\d+)/$")


class FormFields(HTMLParser):
    """The values a browser would send for one form (inputs, checked boxes, selects, textareas)."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside, self.fields = form_id, False, []
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == self.form_id:
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value") or ("on" if kind == "checkbox" else "")))
        elif tag == "select" and a.get("name"):
            self._select, self._select_first, self._select_chosen = a["name"], None, False
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in a and not self._select_chosen:
                self.fields.append((self._select, value))
                self._select_chosen = True
        elif tag == "textarea" and a.get("name"):
            self._textarea, self._text = a["name"], []

    def handle_data(self, data):
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if not self.inside:
            return
        if tag == "select" and self._select is not None:
            if not self._select_chosen and self._select_first is not None:
                self.fields.append((self._select, self._select_first))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, "".join(self._text)))
            self._textarea = None
        elif tag == "form":
            self.inside = False


def form_fields(html: str, form_id: str) -> dict[str, list[str]]:
    parser = FormFields(form_id)
    parser.feed(html)
    fields: dict[str, list[str]] = {}
    for name, value in parser.fields:
        fields.setdefault(name, []).append(value)
    return fields


class Person(HttpUser):
    abstract = True
    role = ""
    wait_time = between(2, 5)

    def on_start(self):
        me = PEOPLE[self.role][next(_next[self.role]) % len(PEOPLE[self.role])]
        self.username, self.company = me["username"], me["company"]
        self.client.get("/accounts/login/", name="login")
        response = self.client.post("/accounts/login/", name="login", allow_redirects=False, data={
            "username": self.username, "password": PEOPLE["password"],
            "csrfmiddlewaretoken": self.client.cookies.get("csrftoken", "")})
        if response.status_code != 302:
            raise RuntimeError(f"{self.username} could not log in: {response.status_code}")

    @property
    def csrf(self) -> str:
        return self.client.cookies.get("csrftoken", "")

    def c(self, path: str = "") -> str:
        return f"/c/{self.company}/{path}"

    def invoice_ids(self, name: str = "invoice list") -> list[str]:
        choice = random.random()
        params = {} if choice < 0.5 else {"status": "open"} if choice < 0.75 else {"sort": "-total"}
        response = self.client.get(self.c("invoices/"), params=params, name=name)
        return INVOICE_LINK.findall(response.text)


class Accountant(Person):
    role = "accountants"
    weight = 30

    @task
    def browse_and_correct(self):
        ids = self.invoice_ids()
        if not ids:
            return
        pk = random.choice(ids)
        self.client.get(self.c(f"invoices/{pk}/"), name="invoice")
        self.client.get(self.c(f"invoices/{pk}/requests/"), headers={"HX-Request": "true"},
                        name="invoice requests (htmx)")
        if random.random() < 0.3:
            self.propose(pk)
        elif random.random() < 0.2:
            self.client.get(self.c("requests/mine/"), name="my requests")

    def propose(self, pk: str) -> None:
        edit = self.c(f"invoices/{pk}/edit/")
        page = self.client.get(edit, name="edit")
        if 'id="edit-form"' not in page.text:
            return  # a request is already open for it, or it is corrected by credit note
        fields = form_fields(page.text, "edit-form")
        fields["observations"] = [f"Corrección de carga {uuid.uuid4().hex[:10]}"]
        if random.random() < 0.5 and fields.get("lines-0-price"):
            try:
                fields["lines-0-price"] = [str((Decimal(fields["lines-0-price"][0]) * Decimal("1.05")).quantize(Decimal("0.01")))]
            except InvalidOperation:
                pass
        self.client.post(edit + "recompute/", data=fields, headers={"HX-Request": "true", "X-CSRFToken": self.csrf},
                         name="edit recompute (htmx)")
        fields["reason"] = ["Prueba de carga: el cliente pidió corregir la nota"]
        fields["action"] = ["submit"]
        with self.client.post(edit, data=fields, allow_redirects=False, name="edit submit",
                              catch_response=True) as response:
            if response.status_code == 302 and REQUEST_LINK.search(response.headers.get("Location", "")):
                response.success()
                self.client.get(response.headers["Location"], name="request")
            elif response.status_code == 200:
                response.success()  # refused by a rule or out of date: shown on the page, not an error


class Approver(Person):
    role = "approvers"
    weight = 12

    @task
    def decide(self):
        inbox = self.client.get(self.c("approvals/"), name="approval inbox")
        pending = DECIDE_FORM.findall(inbox.text)
        if not pending:
            return
        pk = random.choice(pending[:5])  # the oldest few: approvers do not all take the same one
        self.client.get(self.c(f"requests/{pk}/diff/"), headers={"HX-Request": "true"}, name="approval diff (htmx)")
        reject = random.random() < 0.1
        with self.client.post(self.c(f"requests/{pk}/decide/"), allow_redirects=False, name="decide",
                              catch_response=True, data={
                                  "outcome": "reject" if reject else "approve", "from": "inbox",
                                  "comment": "No corresponde a la orden de compra" if reject else "",
                                  "csrfmiddlewaretoken": self.csrf}) as response:
            if response.status_code in (200, 302):
                response.success()  # 200: someone decided first, the page says so
        if random.random() < 0.3:
            self.client.get(self.c(f"requests/{pk}/"), name="request")


class Manager(Person):
    role = "managers"
    weight = 8

    @task(4)
    def audit_log(self):
        params = random.choice([{}, {"action": "pushed"}, {"action": "approved"}, {"date_from": date.today().isoformat()}])
        self.client.get(self.c("audit/"), params=params, name="audit log")

    @task(2)
    def export(self):
        fmt = random.choice(["csv", "json"])
        self.client.get(self.c(f"audit/export.{fmt}"), params={"date_from": date.today().isoformat(),
                                                               "action": "pushed"},
                        name=f"audit export {fmt}")

    @task(2)
    def history(self):
        ids = self.invoice_ids(name="invoice list")
        if ids:
            self.client.get(self.c(f"invoices/{random.choice(ids)}/history/"), name="invoice history")

    @task(1)
    def sync_page(self):
        self.client.get(self.c("sync/"), name="sync")
