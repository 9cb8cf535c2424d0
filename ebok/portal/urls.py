from django.urls import path

from ebok.accounts import security_key_views as keys
from ebok.accounts import step_up_views
from ebok.accounts import two_factor_views as otp
from ebok.accounts.routes import second_step_paths
from ebok.portal.access import resident_page
from ebok.portal.views import account, documents, premises

app_name = "portal"

urlpatterns = [
    path("", premises.dashboard, name="dashboard"),
    path("login/", account.LoginView.as_view(), name="login"),
    path("logout/", account.logout_view, name="logout"),
    path("wylogowano/", account.logged_out, name="logged_out"),
    *second_step_paths(
        resident_page,
        otp.PORTAL,
        {
            "verify": "login/kod/",
            "setup": "konto/dwuetapowa/",
            "recovery_codes": "konto/dwuetapowa/kody/",
            "key_options": "login/klucz/opcje/",
            "key_login": "login/klucz/",
        },
    ),
    path("konto/dwuetapowa/wylacz/", otp.disable, {"area": otp.PORTAL}, name="otp_disable"),
    *keys.own_key_paths(
        resident_page,
        otp.PORTAL,
        {
            "add": "konto/klucze/nowy/",
            "options": "konto/klucze/opcje/",
            "register": "konto/klucze/zapisz/",
            "remove": "konto/klucze/<int:pk>/usun/",
        },
    ),
    path("haslo/", account.password_change, name="password_change"),
    path("regulamin/", account.rules, name="rules"),
    path("konto/", account.account, name="account"),
    path("konto/wyloguj-wszedzie/", account.logout_everywhere, name="logout_everywhere"),
    path("konto/sesje/<int:pk>/zakoncz/", account.end_session, name="end_session"),
    path("konto/tokeny/<int:pk>/uniewaznij/", account.revoke_token, name="revoke_token"),
    path(
        "konto/potwierdz/",
        resident_page(step_up_views.reauthenticate),
        {"area": otp.PORTAL},
        name="reauth",
    ),
    path("lokale/<int:premises_id>/rozrachunki/", premises.ledger, name="ledger"),
    path("lokale/<int:premises_id>/rozrachunki.csv", premises.ledger_csv, name="ledger_csv"),
    path("lokale/<int:premises_id>/rozrachunki.pdf", premises.ledger_pdf, name="ledger_pdf"),
    path("lokale/<int:premises_id>/oplaty/", premises.charges, name="charges"),
    path("lokale/<int:premises_id>/parametry/", premises.parameters, name="parameters"),
    path("lokale/<int:premises_id>/wykresy/", premises.premises_charts, name="charts"),
    path("dokumenty/", documents.documents, name="documents"),
    path("dokumenty/<int:document_id>/pobierz/", documents.document_download, name="document"),
    path("kontakt/", documents.contact, name="contact"),
]
