from django.urls import path

from ebok.panel import branding

app_name = "branding"

urlpatterns = [
    path("theme.css", branding.theme, name="theme"),
    path("logo.png", branding.logo, name="logo"),
]
