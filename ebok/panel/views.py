"""The staff console of a cooperative (``/panel/``). Views stay thin: reads go
through selectors, writes through services; every view names the least role
it needs (see ``access``)."""

import base64
import csv
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from connectors.models import SyncRun
from connectors.services import SyncNotConfigured
from connectors.zsi.errors import PackageProblem
from ebok.accounts import audit, services
from ebok.accounts import selectors as accounts
from ebok.accounts.client_data import clears_site_data
from ebok.accounts.denials import WRONG_AREA, DeniedAsNotFound
from ebok.accounts.forms import PasswordChangeForm
from ebok.accounts.models import User
from ebok.accounts.step_up import recent_authentication_required
from ebok.panel import forms, letter, searches
from ebok.panel import selectors as panel
from ebok.panel import services as panel_services
from ebok.panel.access import (
    admin_required,
    has_role,
    operator_required,
    staff_required,
    viewer_required,
)
from tenants.models import ConnectorSettings

PEOPLE_PER_PAGE = 25
EVENTS_PER_PAGE = 50
RUNS_SHOWN = 20


# --- Logging in and out --------------------------------------------------------------


class LoginView(auth_views.LoginView):
    """The one place where staff log in; the second factor follows on its own page."""

    template_name = "panel/login.html"
    authentication_form = forms.PanelLoginForm
    redirect_authenticated_user = False

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            if request.user.kind != User.Kind.STAFF:
                raise DeniedAsNotFound(WRONG_AREA)
            return redirect("panel:home")
        return super().dispatch(request, *args, **kwargs)

    def get_default_redirect_url(self):
        return reverse("panel:home")


@require_POST
@clears_site_data()
def logout_view(request):
    logout(request)
    return redirect("panel:login")


@sensitive_post_parameters()
@staff_required(pending_password_allowed=True)
def password_change(request):
    form = PasswordChangeForm(request.POST or None)
    submitted = request.method == "POST" and form.is_valid()
    if submitted and form.save(user=request.user, request=request):
        messages.success(request, _("Your password was changed."))
        return redirect("panel:home")
    return render(request, "panel/password_change.html", {"form": form})


@viewer_required
def home(request):
    return redirect("panel:people")


# --- People and their e-BOK accounts --------------------------------------------------


@viewer_required
@require_http_methods(["GET", "POST"])
def people(request):
    """The search is POSTed and its pages are GETs by a key (``searches``): no
    name or address ever appears in a URL."""
    if request.method == "POST":
        form = forms.SearchForm(request.POST)
        if form.is_valid():
            key = searches.remember_search(request.session, form.cleaned_data["q"])
            return redirect(f"{reverse('panel:people')}?{urlencode({'search': key})}")
        key, query = "", ""
    else:
        key = request.GET.get("search", "")
        query = searches.recall_search(request.session, key)
        form = forms.SearchForm(initial={"q": query})
    page = Paginator(panel.search_people(query), PEOPLE_PER_PAGE).get_page(request.GET.get("page"))
    if query:
        results = len(page.object_list)
        audit.record_read("panel.people", actor=request.user, request=request, results=results)
    return render(
        request,
        "panel/people.html",
        {
            "form": form,
            "query": query,
            "page_query": urlencode({"search": key}),
            "page": page,
            "cards": panel.people_cards(page.object_list),
        },
    )


@viewer_required
@require_GET
def person(request, source_id):
    card = panel.person_card(source_id)
    context = {
        "card": card,
        "grant_form": forms.GrantForm(),
        "block_form": forms.BlockForm(),
    }
    if card.account is not None:
        context["logins"] = accounts.last_logins(card.account)
        context["events"] = accounts.events_about(card.account.login)
    audit.record_card_read("panel.person", card, actor=request.user, request=request)
    return render(request, "panel/person.html", context)


def _credentials_page(request, credentials, *, letter_pdf: bytes | None = None, back_url: str):
    """The only page that ever shows an issued password: not cached, not kept."""
    context = {"account": credentials.user, "password": credentials.password, "back_url": back_url}
    if letter_pdf is not None:
        context["letter_data"] = base64.b64encode(letter_pdf).decode("ascii")
        context["letter_name"] = f"e-BOK-{credentials.user.login}.pdf"
    response = render(request, "panel/credentials.html", context)
    response["Cache-Control"] = "no-store"
    return response


@sensitive_variables("credentials", "pdf")
def _resident_credentials_page(request, credentials):
    pdf = letter.access_letter(
        cooperative=request.tenant, user=credentials.user, password=credentials.password
    )
    back = reverse("panel:person", args=[credentials.user.person_source_id])
    return _credentials_page(request, credentials, letter_pdf=pdf, back_url=back)


@never_cache
@operator_required
@require_POST
@recent_authentication_required
@sensitive_variables("credentials")
def grant(request, source_id):
    card = panel.person_card(source_id)
    form = forms.GrantForm(request.POST)
    form.is_valid()
    try:
        credentials = services.grant_access(
            person_source_id=card.person.source_id,
            confirm_after_erasure=form.cleaned_data.get("confirm_after_erasure", False),
            actor=request.user,
            request=request,
        )
    except services.AccountError as error:
        messages.error(request, str(error))
        return redirect("panel:person", source_id)
    return _resident_credentials_page(request, credentials)


def _target_account(request, pk) -> User:
    """A resident's account for operators, a staff account for admins: else 403."""
    account = get_object_or_404(User, pk=pk, kind__in=[User.Kind.RESIDENT, User.Kind.STAFF])
    needed = User.Role.ADMIN if account.kind == User.Kind.STAFF else User.Role.OPERATOR
    if not has_role(request.user, needed):
        raise PermissionDenied
    return account


def _account_page(account: User) -> str:
    if account.kind == User.Kind.STAFF:
        return reverse("panel:staff_member", args=[account.pk])
    return reverse("panel:person", args=[account.person_source_id])


@never_cache
@operator_required
@require_POST
@recent_authentication_required
@sensitive_variables("credentials")
def regenerate(request, pk):
    account = _target_account(request, pk)
    credentials = services.regenerate_password(user=account, actor=request.user, request=request)
    if account.kind == User.Kind.STAFF:
        return _credentials_page(request, credentials, back_url=_account_page(account))
    return _resident_credentials_page(request, credentials)


@operator_required
@require_POST
@recent_authentication_required
def block(request, pk):
    account = _target_account(request, pk)
    form = forms.BlockForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the reason of the block."))
        return redirect(_account_page(account))
    try:
        services.block_account(
            user=account,
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
            actor=request.user,
            request=request,
        )
    except services.AccountError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The account %(login)s is blocked.") % {"login": account})
    return redirect(_account_page(account))


@operator_required
@require_POST
@recent_authentication_required
def unblock(request, pk):
    account = _target_account(request, pk)
    try:
        services.unblock_account(user=account, actor=request.user, request=request)
    except services.AccountError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The account %(login)s is unblocked.") % {"login": account})
    return redirect(_account_page(account))


@operator_required
@recent_authentication_required
def erase(request, pk):
    account = _target_account(request, pk)
    if account.kind != User.Kind.RESIDENT:
        raise Http404
    form = forms.EraseForm(request.POST or None, initial={"request_date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        source_id = account.person_source_id
        try:
            record = services.erase_account(
                user=account,
                request_reference=form.cleaned_data["request_reference"],
                request_date=form.cleaned_data["request_date"],
                actor=request.user,
                request=request,
            )
        except services.AccountError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("The account was erased (request %(ref)s).") % {"ref": record.request_reference},
            )
            return redirect("panel:person", source_id)
    return render(request, "panel/erase.html", {"account": account, "form": form})


# --- Staff ----------------------------------------------------------------------------------


@never_cache
@admin_required
@recent_authentication_required(reads_allowed=True)
@sensitive_variables("credentials")
def staff(request):
    form = forms.StaffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            credentials = services.create_staff(
                login=form.cleaned_data["login"],
                role=form.cleaned_data["role"],
                display_name=form.cleaned_data["display_name"],
                email=form.cleaned_data["email"],
                actor=request.user,
                request=request,
            )
        except services.AccountError as error:
            form.add_error("login", str(error))
        else:
            return _credentials_page(request, credentials, back_url=_account_page(credentials.user))
    return render(request, "panel/staff.html", {"form": form, "members": accounts.staff_accounts()})


@admin_required
@recent_authentication_required(reads_allowed=True)
def staff_member(request, pk):
    member = get_object_or_404(User, pk=pk, kind=User.Kind.STAFF)
    form = forms.RoleForm(request.POST or None, initial={"role": member.role})
    if request.method == "POST" and form.is_valid():
        try:
            services.change_staff_role(
                user=member, role=form.cleaned_data["role"], actor=request.user, request=request
            )
        except services.AccountError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The role was saved."))
        return redirect("panel:staff_member", pk)
    audit.record_read("panel.staff_member", actor=request.user, target=member, request=request)
    return render(
        request,
        "panel/staff_member.html",
        {
            "member": member,
            "form": form,
            "block_form": forms.BlockForm(),
            "logins": accounts.last_logins(member),
            "events": accounts.events_about(member.login),
        },
    )


# --- Syncs and the connector ------------------------------------------------------------------


def _connector_settings(cooperative):
    # Queried each time: the request's cooperative may come from a per-process cache.
    return ConnectorSettings.objects.filter(cooperative_id=cooperative.pk).first()


def _since(request):
    """The moment "sync now" was pressed (epoch milliseconds in the query)."""
    value = request.GET.get("since", "")
    if not value.isdigit():
        return None
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):  # digits, but no moment of this calendar
        return None


@viewer_required
@require_GET
def sync_status(request):
    since = _since(request)
    return render(
        request,
        "panel/sync.html",
        {
            "runs": SyncRun.objects.order_by("-started_at", "-id")[:RUNS_SHOWN],
            "connector": _connector_settings(request.tenant),
            "can_start": has_role(request.user, User.Role.OPERATOR),
            "watch_since": request.GET["since"] if since else "",
        },
    )


@operator_required
@require_POST
def sync_start(request):
    since = int(timezone.now().timestamp() * 1000)
    try:
        panel_services.start_manual_sync(
            request.tenant, trigger="manual", actor=request.user, request=request
        )
    except SyncNotConfigured as error:
        messages.error(request, str(error))
        return redirect("panel:sync")
    return redirect(f"{reverse('panel:sync')}?since={since}")


@viewer_required
@require_GET
def sync_progress(request):
    """The latest run started since "sync now" was pressed, for the live display."""
    since = _since(request)
    run = SyncRun.objects.order_by("-started_at", "-id").first()
    if since is None or run is None or run.started_at < since:
        return JsonResponse({"state": "waiting"})
    return JsonResponse(
        {
            "state": "finished" if run.finished_at else "running",
            "id": run.pk,
            "outcome": run.outcome,
            "outcome_label": run.get_outcome_display(),
            "progress": run.progress,
            "counts": run.counts,
            "errors": len(run.errors),
            "url": reverse("panel:sync_run", args=[run.pk]),
        }
    )


def _readable(error) -> str:
    try:
        return str(PackageProblem(**error))
    except TypeError:
        return str(error)


@viewer_required
@require_GET
def sync_run(request, pk):
    run = get_object_or_404(SyncRun, pk=pk)
    problems = [_readable(error) for error in run.errors]
    return render(request, "panel/sync_run.html", {"run": run, "problems": problems})


@admin_required
@recent_authentication_required(reads_allowed=True)
def connector(request):
    settings_row = _connector_settings(request.tenant)
    if settings_row is None:
        return render(request, "panel/connector.html", {"connector": None})
    form = forms.ScheduleForm(
        request.POST or None,
        initial={"schedule": settings_row.schedule, "enabled": settings_row.enabled},
    )
    if request.method == "POST" and form.is_valid():
        panel_services.update_schedule(
            settings_row,
            schedule=form.cleaned_data["schedule"],
            enabled=form.cleaned_data["enabled"],
            actor=request.user,
            request=request,
        )
        messages.success(request, _("The schedule was saved."))
        return redirect("panel:connector")
    return render(request, "panel/connector.html", {"connector": settings_row, "form": form})


# --- The cooperative's settings -------------------------------------------------------------


def _settings_initial(cooperative) -> dict:
    names = (*panel_services.CONTACT_FIELDS, "rules_text", "accent_color")
    return {name: getattr(cooperative, name) for name in names}


@admin_required
@recent_authentication_required
def cooperative_settings(request):
    cooperative = request.tenant
    form = forms.CooperativeSettingsForm(
        request.POST or None, request.FILES or None, initial=_settings_initial(cooperative)
    )
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        changed = panel_services.update_cooperative_settings(
            cooperative,
            values=values,
            logo=values.pop("logo"),
            remove_logo=values.pop("remove_logo"),
            actor=request.user,
            request=request,
        )
        if "rules_version" in changed:
            messages.success(
                request,
                _("Saved. Residents will accept the rules (version %(v)s) at their next visit.")
                % {"v": cooperative.rules_version},
            )
        else:
            messages.success(request, _("Saved."))
        return redirect("panel:settings")
    return render(request, "panel/settings.html", {"form": form})


# --- Audit log ------------------------------------------------------------------------------


def _kept_filters(request) -> tuple[forms.AuditFilterForm, str]:
    """The filters kept under ``?search=`` (``searches``): a login is made from a
    surname, so it never goes into a URL. The key, while it finds them."""
    key = request.GET.get("search", "")
    filters = searches.recall_search(request.session, key, empty={})
    return forms.AuditFilterForm(filters), key if filters else ""


@viewer_required
@require_http_methods(["GET", "POST"])
def audit_log(request):
    """The filters are POSTed; the log's pages and its CSV are GETs by a key."""
    if request.method == "POST":
        form, key = forms.AuditFilterForm(request.POST), ""
        if form.is_valid():
            filters = {name: request.POST[name] for name in form.filters()}
            if not filters:
                return redirect("panel:audit")
            key = searches.remember_search(request.session, filters)
            return redirect(f"{reverse('panel:audit')}?{urlencode({'search': key})}")
    else:
        form, key = _kept_filters(request)
    events = accounts.audit_events(**form.filters())
    page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "panel/audit.html",
        {
            "form": form,
            "page": page,
            "query": urlencode({"search": key}) if key else "",
            "actions": accounts.audit_actions(),
        },
    )


@viewer_required
@require_GET
def audit_export(request):
    form, _key = _kept_filters(request)
    events = accounts.audit_events(**form.filters())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    response.write("\ufeff")  # lets spreadsheet programs read UTF-8
    writer = csv.writer(response)
    writer.writerow(["at", "action", "actor", "target", "ip_address", "details"])
    for event in events.iterator(chunk_size=2000):
        writer.writerow(
            [
                timezone.localtime(event.at).isoformat(timespec="seconds"),
                event.action,
                _csv_safe(event.actor_login),
                _csv_safe(event.target_login),
                event.ip_address or "",
                _csv_safe(_details_text(event.details)),
            ]
        )
    # After the rows, so the file does not list its own export. Which filters, not
    # their values: a login filter names the account read about.
    used = {name: value for name, value in form.filters().items() if value}
    audit.record_read(
        "panel.audit_export",
        actor=request.user,
        target=used.get("login"),
        request=request,
        filters=sorted(used),
    )
    return response


def _details_text(details: dict) -> str:
    return "; ".join(f"{key}={value}" for key, value in sorted(details.items()))


def _csv_safe(value: str) -> str:
    """A cell that a spreadsheet would run as a formula is kept as text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
