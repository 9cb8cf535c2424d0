"""Filter forms rendered once per language and query, not on every page view.

A form's HTML depends only on its data and the language, and rendering its
widgets through Django's form templates costs more than the rest of the form's
page; the same few variants (above all: no filter) are asked for again and
again. Kept per process and bounded.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.translation import get_language

MAX_VARIANTS = 256
_rendered: dict[tuple, str] = {}


def filter_form(template_name: str, form) -> str:
    """``template_name`` rendered with ``{"form": form}`` only (a GET form: no
    CSRF token, nothing of the request)."""
    if settings.DEBUG:  # templates may be edited while the server runs
        return render_to_string(template_name, {"form": form})
    data = tuple(sorted((name, tuple(form.data.getlist(name))) for name in form.fields))
    key = (template_name, get_language(), form.is_bound, data if form.is_bound else ())
    html = _rendered.get(key)
    if html is None:
        html = render_to_string(template_name, {"form": form})
        if len(_rendered) >= MAX_VARIANTS:
            _rendered.clear()
        _rendered[key] = html
    return html
