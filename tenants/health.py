from django.conf import settings
from django.db import connection
from kombu import Connection


def database_reachable() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def broker_reachable() -> bool:
    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=1) as broker:
            broker.ensure_connection(max_retries=0, timeout=1)
        return True
    except Exception:
        return False
