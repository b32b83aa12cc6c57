"""A line form says it changed without parsing its values twice, and says what Django would."""

from django import forms

from approvals.forms.edit import LineForm


def test_every_posted_line_counts_as_changed_as_django_itself_would_say():
    for data in ({}, {"lines-0-price": ""}, {"lines-0-price": "1,5", "lines-0-quantity": "2"},
                 {"lines-0-tax": ["3"], "lines-0-price": "x"}):
        form = LineForm(data, prefix="lines-0")
        assert forms.Form.has_changed(form) is True
        assert form.has_changed() is True
