"""``{% password_tools %}``: the script that adds a "show password" button to every
password field of the page and, with ``strength=True``, a strength meter under the
new password (docs/decisions/0720-…)."""

from django import template
from django.contrib.auth.password_validation import (
    MinimumLengthValidator,
    get_default_password_validators,
)

register = template.Library()


def _minimum_length_validator() -> MinimumLengthValidator:
    """The server's own rule, so that the meter says what a refusal would say."""
    return next(
        validator
        for validator in get_default_password_validators()
        if isinstance(validator, MinimumLengthValidator)
    )


@register.inclusion_tag("accounts/_password_tools.html")
def password_tools(strength: bool = False) -> dict:
    context = {"strength": strength}
    if strength:
        minimum = _minimum_length_validator()
        context.update(min_length=minimum.min_length, too_short=minimum.get_error_message())
    return context
