"""``{% load branding %}{% branding_head %}`` in a page's <head> applies the
cooperative's accent colour (as ``var(--accent)``); ``{% branding_logo %}``
shows its logo, if it has one."""

from django import template

register = template.Library()


@register.inclusion_tag("panel/branding_head.html")
def branding_head():
    return {}


@register.inclusion_tag("panel/branding_logo.html", takes_context=True)
def branding_logo(context):
    cooperative = context.get("cooperative")
    return {"cooperative": cooperative, "has_logo": bool(getattr(cooperative, "logo", None))}
