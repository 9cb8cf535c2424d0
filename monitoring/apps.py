from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Security monitoring and retention"

    def ready(self):
        from monitoring import signals  # noqa: F401 - connects the lockout receiver
