"""The filter forms' widgets write what Django's widget templates write, byte for byte."""

import copy
import datetime

import pytest
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy, override

from audit.forms import AuditFilterForm
from findings.forms import LearningFilterForm, ReviewFilterForm
from invoices.forms import InvoiceFilterForm
from portal import widgets

HOSTILE = [None, "", "plain", "<script>alert('x')</script>", 'a "quoted" & <tagged> value', mark_safe("<i>safe</i>"),
           0, 1234567, datetime.date(2026, 1, 31), "ñandú ∑ 😀"]
ATTRS = [None, {"id": "id_q", "required": True, "disabled": False, "maxlength": 100, "placeholder": "<b>&"},
         {"aria-invalid": "true", "data-x": mark_safe("<raw>")}]


def _django_twin(widget):
    """The same widget, rendered by Django's own class and templates."""
    twin = copy.deepcopy(widget)
    twin.__class__ = next(kind for kind in type(widget).__mro__ if kind.__module__.startswith("django.forms"))
    return twin


@pytest.mark.parametrize("kind", [widgets.TextInput, widgets.DateInput, widgets.HiddenInput])
@pytest.mark.parametrize("own", [None, {"type": "search", "placeholder": "Número o cliente"}])
def test_an_input_is_written_as_django_writes_it(kind, own):
    widget = kind(attrs=own)
    for value in HOSTILE:
        for attrs in ATTRS:
            assert widget.render("q", value, attrs) == _django_twin(widget).render("q", value, attrs)
    assert "&lt;script&gt;" in widget.render("q", HOSTILE[3])


def test_a_select_is_written_as_django_writes_it_groups_and_selection_included():
    choices = [("", "Any"), ("a<b", "A & B"), ("group <g>", [("x", "X <x>"), ("y", "Y")]), (3, 1000),
               ("lazy", gettext_lazy("Any status"))]
    widget = widgets.Select(choices=choices)
    for value in [None, "", "a<b", "x", 3, "3", ["x"], "<not a choice>"]:
        for attrs in ATTRS:
            assert widget.render("s<", value, attrs) == _django_twin(widget).render("s<", value, attrs)
    assert '<option value="x" selected>X &lt;x&gt;</option>' in widget.render("s", "x")


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "es"])
def test_every_field_of_the_filter_forms_renders_as_with_djangos_widgets(company, language):
    hostile = {"q": "<b>\"x\"</b> & ñ", "status": "open", "date_from": "2026-02-30", "date_to": "2026-01-01",
               "client": "<c>", "sort": "nope", "kind": "price", "severity": "<s>", "month": "2026-13",
               "order": "impact", "page": "-1", "invoice": "FE<1>", "action": "x", "after": "'\"", "state": "all"}
    with override(language):
        bound = [InvoiceFilterForm(hostile), InvoiceFilterForm(), ReviewFilterForm(hostile), ReviewFilterForm(),
                 LearningFilterForm(hostile), AuditFilterForm(hostile, company=company), AuditFilterForm(company=company)]
        checked = 0
        for form in bound:
            form.is_valid()
            for field in form:
                if isinstance(field.field.widget, (widgets.TextInput, widgets.DateInput, widgets.HiddenInput,
                                                   widgets.Select)):
                    assert str(field) == field.as_widget(widget=_django_twin(field.field.widget)), field.name
                    checked += 1
    assert checked >= 40
