"""``/api/v1/`` on each cooperative's host."""

from django.urls import path, re_path

from ebok.api import errors
from ebok.api.views import auth, docs, me, resident, staff

app_name = "api"

urlpatterns = [
    path("auth/token/", auth.TokenView.as_view(), name="token"),
    path("me/", me.MeView.as_view(), name="me"),
    path("me/password/", me.PasswordView.as_view(), name="password"),
    path("me/rules/", me.RulesView.as_view(), name="rules"),
    path("cooperative/", me.CooperativeView.as_view(), name="cooperative"),
    path("premises/", resident.PremisesListView.as_view(), name="premises"),
    path("premises/<int:pk>/", resident.PremisesDetailView.as_view(), name="premises-detail"),
    path("premises/<int:pk>/ledger/", resident.LedgerView.as_view(), name="ledger"),
    path("premises/<int:pk>/charges/", resident.ChargesView.as_view(), name="charges"),
    path("premises/<int:pk>/parameters/", resident.ParametersView.as_view(), name="parameters"),
    path("premises/<int:pk>/readings/", resident.ReadingsView.as_view(), name="readings"),
    path("documents/", resident.DocumentListView.as_view(), name="documents"),
    path("documents/<int:pk>/file", resident.DocumentFileView.as_view(), name="document-file"),
    # Before the person's own address, which would take "search" for an ID_OSOBY.
    path("staff/persons/search/", staff.PersonSearchView.as_view(), name="persons-search"),
    path("staff/persons/<str:person_id>/", staff.PersonDetailView.as_view(), name="person"),
    path("staff/persons/<str:person_id>/grant/", staff.GrantView.as_view(), name="grant"),
    path(
        "staff/persons/<str:person_id>/regenerate/",
        staff.RegenerateView.as_view(),
        name="regenerate",
    ),
    path("staff/persons/<str:person_id>/block/", staff.BlockView.as_view(), name="block"),
    path("staff/persons/<str:person_id>/unblock/", staff.UnblockView.as_view(), name="unblock"),
    path("staff/persons/<str:person_id>/erase/", staff.EraseView.as_view(), name="erase"),
    path("staff/sync-runs/", staff.SyncRunListView.as_view(), name="sync-runs"),
    path("staff/sync-runs/<int:pk>/", staff.SyncRunDetailView.as_view(), name="sync-run"),
    path("staff/sync/", staff.SyncNowView.as_view(), name="sync-now"),
    path("schema/", docs.SchemaView.as_view(), name="schema"),
    path("docs/", docs.DocsView.as_view(), name="docs"),
    # Anything else under the API: 404 in the API's error shape, not an HTML page.
    # [\s\S], not (?s): paths may hold a newline too, and Django must still reverse() names.
    re_path(r"^[\s\S]*$", errors.not_found),
]
