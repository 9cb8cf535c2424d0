"""URLs of a cooperative's host: portal, staff console and API."""

from django.urls import include, path

from tenants import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("panel/", include("ebok.panel.urls")),
    path("branding/", include("ebok.panel.urls_branding")),
    path("api/v1/", include("ebok.api.urls")),
    path("", include("ebok.portal.urls")),
]
