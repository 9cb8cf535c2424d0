"""The OpenAPI schema and its browsable documentation, both public.

Swagger UI comes from drf-spectacular-sidecar's static files (no CDN) and its
start-up script is a separate request: the page runs under the strict CSP.
"""

from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny


class SchemaView(SpectacularJSONAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]


class DocsView(SpectacularSwaggerSplitView):
    authentication_classes = []
    permission_classes = [AllowAny]
    template_name = "api/swagger_ui.html"
    url_name = "api:schema"
    title = "e-BOK API"
