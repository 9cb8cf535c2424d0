from django.urls import path

from ebok.accounts import security_key_views as keys
from ebok.accounts import step_up_views
from ebok.accounts import two_factor_views as otp
from ebok.accounts.routes import second_step_paths
from ebok.panel import account_views, views
from ebok.panel.access import staff_required, viewer_required

app_name = "panel"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    *second_step_paths(
        viewer_required,
        otp.PANEL,
        {
            "verify": "otp/",
            "setup": "otp/setup/",
            "recovery_codes": "otp/recovery-codes/",
            "key_options": "otp/key/options/",
            "key_login": "otp/key/",
        },
    ),
    path("password/", views.password_change, name="password"),
    path(
        "reauth/",
        staff_required()(step_up_views.reauthenticate),
        {"area": otp.PANEL},
        name="reauth",
    ),
    path("account/", account_views.account, name="account"),
    path("account/sessions/<int:pk>/end/", account_views.end_session, name="end_session"),
    path(
        "account/sessions/end-others/", account_views.end_other_sessions, name="end_other_sessions"
    ),
    path("account/tokens/<int:pk>/revoke/", account_views.revoke_token, name="revoke_token"),
    *keys.own_key_paths(
        viewer_required,
        otp.PANEL,
        {
            "add": "account/keys/new/",
            "options": "account/keys/options/",
            "register": "account/keys/register/",
            "remove": "account/keys/<int:pk>/remove/",
        },
    ),
    path("people/", views.people, name="people"),
    path("people/<str:source_id>/", views.person, name="person"),
    path("people/<str:source_id>/grant/", views.grant, name="grant"),
    path("accounts/<int:pk>/regenerate/", views.regenerate, name="regenerate"),
    path("accounts/<int:pk>/block/", views.block, name="block"),
    path("accounts/<int:pk>/unblock/", views.unblock, name="unblock"),
    path("accounts/<int:pk>/erase/", views.erase, name="erase"),
    path("staff/", views.staff, name="staff"),
    path("staff/<int:pk>/", views.staff_member, name="staff_member"),
    path("sync/", views.sync_status, name="sync"),
    path("sync/start/", views.sync_start, name="sync_start"),
    path("sync/progress/", views.sync_progress, name="sync_progress"),
    path("sync/runs/<int:pk>/", views.sync_run, name="sync_run"),
    path("connector/", views.connector, name="connector"),
    path("settings/", views.cooperative_settings, name="settings"),
    path("audit/", views.audit_log, name="audit"),
    path("audit/export.csv", views.audit_export, name="audit_export"),
]
