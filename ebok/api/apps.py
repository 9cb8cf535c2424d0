from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "ebok.api"
    label = "api"
    verbose_name = "REST API"

    def ready(self):
        from ebok.api import schema  # noqa: F401 - registers the OpenAPI extensions
