from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from monitoring import selectors, services
from monitoring.models import SecurityAlert
from tenants.views import operator_required


@require_GET
@operator_required
def alerts(request):
    show = "all" if request.GET.get("show") == "all" else "open"
    page = Paginator(selectors.alerts_for_console(show=show), 50).get_page(request.GET.get("page"))
    return render(request, "monitoring/alerts.html", {"page": page, "show": show})


@require_POST
@operator_required
def acknowledge(request, pk):
    alert = get_object_or_404(SecurityAlert, pk=pk)
    try:
        services.acknowledge(alert, actor=request.user, request=request)
    except services.AlertError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The alert is acknowledged."))
    return redirect("operator:alerts")
