"""``{% security_keys_of user as keys %}``: the account's security keys, for the
account page and the login's second step (docs/decisions/0790-security-keys.md)."""

from django import template

from ebok.accounts import security_keys

register = template.Library()


@register.simple_tag
def security_keys_of(user):
    return list(security_keys.keys_of(user)) if user.is_authenticated else []
