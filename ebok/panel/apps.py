from django.apps import AppConfig


class PanelConfig(AppConfig):
    name = "ebok.panel"
    label = "panel"
    verbose_name = "Staff console"
