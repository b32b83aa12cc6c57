"""A line form says it changed without parsing its values twice, and says what Django would."""

from django import forms

from approvals.forms.edit import LineForm


def test_every_posted_line_counts_as_changed_as_django_itself_would_say():
    for data in ({}, {"lines-0-price": ""}, {"lines-0-price": "1,5", "lines-0-quantity": "2"},
                 {"lines-0-tax": ["3"], "lines-0-price": "x"}):
        form = LineForm(data, prefix="lines-0")
        assert forms.Form.has_changed(form) is True
        assert form.has_changed() is True


def test_a_line_is_parsed_as_djangos_own_loop_would_parse_it():
    """The line form's lean parsing gives the values and errors of Django's own loop."""
    cases = ({}, {"lines-0-price": "", "lines-0-quantity": ""},
             {"lines-0-item": "7", "lines-0-price": "1.234,5", "lines-0-quantity": "2", "lines-0-discount": "10",
              "lines-0-tax": ["3", "1"], "lines-0-origin": "4", "lines-0-name": "Café", "lines-0-description": " a\r\nb "},
             {"lines-0-item": "x" * 40, "lines-0-price": "dos", "lines-0-quantity": "1e99", "lines-0-discount": "0,0000000000001",
              "lines-0-tax": ["a"] * 20, "lines-0-origin": "-1", "lines-0-name": "n" * 301})
    assert not [name for name in dir(LineForm) if name.startswith("clean_")]
    assert not [name for name, field in LineForm.base_fields.items() if field.disabled]
    for data in cases:
        lean, django = LineForm(data, prefix="lines-0"), LineForm(data, prefix="lines-0")
        lean.full_clean()
        django._errors, django.cleaned_data = forms.utils.ErrorDict(), {}
        forms.Form._clean_fields(django)
        assert lean.cleaned_data == django.cleaned_data, data
        assert lean.errors.get_json_data() == django._errors.get_json_data(), data
    assert {"item", "price", "quantity", "origin", "name"} <= set(lean.errors)  # the last case: wrong everywhere
