"""URLs of the apex host: the platform operators' console."""

from django.contrib import admin
from django.urls import include, path

from tenants import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("", include("tenants.urls")),
    path("admin/", admin.site.urls),
]
