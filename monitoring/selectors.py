from monitoring.models import SecurityAlert


def alerts_for_console(*, show: str = "open"):
    """Alerts for the operator console: ``open`` (the condition lasts or nobody
    acknowledged it yet) or ``all``; newest first."""
    alerts = SecurityAlert.objects.select_related("cooperative").order_by("-last_seen", "-id")
    if show == "open":
        return alerts.filter(ended_at__isnull=True) | alerts.filter(acknowledged_at__isnull=True)
    return alerts
