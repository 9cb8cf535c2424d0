from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "ebok.portal"
    label = "portal"
    verbose_name = "Residents' portal"
