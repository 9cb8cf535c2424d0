from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from tenants.health import broker_reachable, database_reachable


@require_GET
@never_cache
def healthz(request):
    checks = {
        "database": "ok" if database_reachable() else "down",
        "broker": "ok" if broker_reachable() else "down",
    }
    healthy = all(state == "ok" for state in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "down", **checks}, status=200 if healthy else 503
    )
