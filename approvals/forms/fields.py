"""Form fields that parse what people type into exact values; the rules judge them later."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from portal import formats

MAX_NUMBER = Decimal("1e15")
MAX_NUMBER_TEXT = 40
MAX_DECIMALS = 12
MAX_TAXES_PER_LINE = 10


def _shown(text: str) -> dict:
    return {"value": text, "example": formats.number(Decimal("6500.5"), decimals=2)}


class DecimalText(forms.CharField):
    """An exact number as typed ("1234.5", "1234,5"); business bounds are the rules' job."""

    default_error_messages = {
        "invalid": _("“%(value)s” is not a number; write it like %(example)s."),
        "too_large": _("The number is too large."),
        "too_precise": _("Use at most 12 decimals."),
    }

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        text = text.replace(" ", "")
        if len(text) > MAX_NUMBER_TEXT:
            raise ValidationError(self.error_messages["invalid"], code="invalid", params=_shown(text[:20]))
        try:
            # As the company's country writes it: "6.500,50" in Colombia, "6,500.50" in Mexico.
            number = formats.parse_decimal(text)
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid", params=_shown(text)) from None
        if number == 0:
            return Decimal(0)  # "0E-999999" would print a million zeros
        if abs(number) >= MAX_NUMBER:
            raise ValidationError(self.error_messages["too_large"], code="too_large")
        if number.normalize().as_tuple().exponent < -MAX_DECIMALS:
            raise ValidationError(self.error_messages["too_precise"], code="too_precise")
        return number

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update({"inputmode": "decimal", "autocomplete": "off"})
        return attrs


class LocalDecimalField(forms.DecimalField):
    """A threshold as people type it in the company's country ("1.500.000,50" in Colombia), with
    the model field's bounds (digits, decimals, minimum) checked as Django checks them."""

    widget = forms.TextInput

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip()
        if len(text) > MAX_NUMBER_TEXT:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            return formats.parse_decimal(text)
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.pop("step", None)
        attrs.update({"inputmode": "decimal", "autocomplete": "off"})
        return attrs


class IdField(forms.CharField):
    """An Alegra id: text, at most 36 characters."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 36)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


class IdListField(forms.Field):
    """Several ids (the taxes of a line); whether each exists is a business rule."""

    widget = forms.CheckboxSelectMultiple
    default_error_messages = {"invalid": _("Choose at most 10 taxes.")}

    def to_python(self, value):
        if value in (None, ""):
            return []
        values = value if isinstance(value, (list, tuple)) else [value]
        result = []
        for raw in values:
            text = str(raw).strip()
            if not text:
                continue
            if len(text) > 36 or "\x00" in text:
                raise ValidationError(self.error_messages["invalid"], code="invalid")
            if text not in result:
                result.append(text)
        if len(result) > MAX_TAXES_PER_LINE:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return result


class Shared:
    """A field no form instance changes, so the hundreds of line forms share it, uncopied."""

    def __deepcopy__(self, memo):
        return self


class SharedInteger(Shared, forms.IntegerField):
    pass


class SharedText(Shared, forms.CharField):
    pass


class SharedId(Shared, IdField):
    pass


class SharedDecimal(Shared, DecimalText):
    pass


class SharedIdList(Shared, IdListField):
    pass
