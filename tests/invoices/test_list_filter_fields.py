"""The invoice list's filter form is written byte for byte as the template loop it replaces wrote it."""

import pytest
from django.http import QueryDict
from django.template import engines
from django.utils import translation

from invoices.forms import InvoiceFilterForm

# The loop the list's template held before the form was written in Python.
LOOP = ('{% for field in form %}{% if field.is_hidden %}{% if field.name != "after" %}{{ field }}{% endif %}'
        '{% else %}\n    <label>{{ field.label }} {{ field }}{% for e in field.errors %}<span class="error">{{ e }}'
        '</span>{% endfor %}</label>\n  {% endif %}{% endfor %}')
FILTER = '{% load listing %}{{ form|filter_fields:"after" }}'

QUERIES = [
    None,  # a first visit: an unbound form
    "q=4521",
    # Markup and quotes in what was typed, every field set, a cursor (never written back).
    'q=<script>alert("x")</script>%20%26%20Cía&status=open&client=a"b<c&date_from=2026-01-01&date_to=2026-02-01'
    "&due=overdue&stamped=yes&balance=no&sort=-number&after=eyJhIjoxfQ",
    # Refused: an end before the start, a date that is none, a choice that is none, a search too long.
    "date_from=2026-03-01&date_to=2026-02-01&due=someday&sort=<b>&q=" + "x" * 101,
    "date_from=not-a-date&stamped=maybe",
]


@pytest.mark.parametrize("language", ["es", "en"])
@pytest.mark.parametrize("query", QUERIES)
def test_the_filter_form_is_written_as_the_template_loop_wrote_it(language, query):
    engine = engines["django"]
    with translation.override(language):
        form = InvoiceFilterForm(QueryDict(query) if query is not None else None)
        form.is_valid()
        expected = engine.from_string(LOOP).render({"form": form})
        written = engine.from_string(FILTER).render({"form": form})
    assert written == expected
    if query and "2026-03-01" in query:
        assert '<span class="error">' in written  # the refusals are shown, escaped as before
        assert "<b>" not in written
    if query and "eyJhIjoxfQ" in query:
        assert "eyJhIjoxfQ" not in written and "&lt;script&gt;" in written


def test_a_label_with_markup_is_escaped_as_the_loop_escaped_it():
    form = InvoiceFilterForm(QueryDict("q=1"))
    form.fields["status"].label = 'Estado <b>"&"</b>'
    form.is_valid()
    engine = engines["django"]
    written = engine.from_string(FILTER).render({"form": form})
    assert written == engine.from_string(LOOP).render({"form": form})
    assert "Estado &lt;b&gt;&quot;&amp;&quot;&lt;/b&gt;" in written
