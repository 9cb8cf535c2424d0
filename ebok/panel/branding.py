"""The cooperative's logo and accent colour, as residents' pages load them.

Public on purpose (the login page shows them too), but still served through a
view from the cooperative's private storage, never from a media URL.
"""

from django.http import FileResponse, Http404, HttpResponse
from django.views.decorators.http import require_GET

from ebok.panel.forms import HEX_COLOUR

CACHE_SECONDS = 300
DEFAULT_ACCENT = "#0b5cad"


def _contrast(colour: str) -> str:
    """Black or white text, whichever reads better on the accent (WCAG luminance)."""

    def channel(hex_pair: str) -> float:
        value = int(hex_pair, 16) / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return "#000000" if luminance > 0.179 else "#ffffff"


def accent_of(cooperative) -> str:
    colour = getattr(cooperative, "accent_color", "") or ""
    return colour.lower() if HEX_COLOUR.match(colour) else DEFAULT_ACCENT


@require_GET
def theme(request):
    accent = accent_of(request.tenant)
    css = f":root {{ --accent: {accent}; --accent-contrast: {_contrast(accent)}; }}\n"
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response


@require_GET
def logo(request):
    stored = request.tenant.logo
    if not stored:
        raise Http404
    try:
        handle = stored.open("rb")
    except FileNotFoundError as error:
        raise Http404 from error
    response = FileResponse(handle, content_type="image/png")
    response["Content-Disposition"] = 'attachment; filename="logo.png"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response
