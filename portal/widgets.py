"""Form widgets written out directly, byte for byte as Django's own widget templates write them.

A list's filter form has up to ten fields. Django renders each widget through three or four small
templates (input, attrs, select, one per option): 1.7 ms of a 12.7 ms invoice list page. These
classes produce the same HTML without the template engine; `tests/portal/test_widgets.py` holds
them to Django's output, hostile values included. Only the widgets the filter forms use are here.
"""

from __future__ import annotations

from django import forms
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html: True is a bare name, False is left out."""
    return "".join(f" {conditional_escape(name)}" if value is True
                   else f' {conditional_escape(name)}="{conditional_escape(value)}"'
                   for name, value in attrs.items() if value is not False)


class _Direct:
    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        return mark_safe(self.html(self.get_context(name, value, attrs)["widget"]))


class _Input(_Direct):
    def html(self, widget: dict) -> str:
        value = widget["value"]
        value = "" if value is None else f' value="{conditional_escape(value)}"'
        return (f'<input type="{conditional_escape(widget["type"])}" name="{conditional_escape(widget["name"])}"'
                f"{value}{_attrs(widget['attrs'])}>")


class TextInput(_Input, forms.TextInput):
    pass


class DateInput(_Input, forms.DateInput):
    pass


class HiddenInput(_Input, forms.HiddenInput):
    pass


class Select(_Direct, forms.Select):
    def html(self, widget: dict) -> str:
        parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
            for option in options:
                # The option's template ends in a new line, which its include keeps.
                parts.append(f'\n  <option value="{conditional_escape(option["value"])}"{_attrs(option["attrs"])}>'
                             f'{conditional_escape(localize(option["label"]))}</option>\n')
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return "".join(parts)
