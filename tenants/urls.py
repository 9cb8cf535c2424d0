from django.urls import path

from ebok.accounts import step_up_views
from ebok.accounts import two_factor_views as otp
from monitoring import views as alerts
from tenants import views

app_name = "operator"

urlpatterns = [
    path("", views.console_home, name="home"),
    path("login/", views.OperatorLoginView.as_view(), name="login"),
    path("logout/", views.operator_logout, name="logout"),
    path("otp/", otp.verify, {"area": otp.CONSOLE}, name="otp_verify"),
    path("otp/setup/", otp.setup, {"area": otp.CONSOLE}, name="otp_setup"),
    path(
        "reauth/",
        views.operator_required(step_up_views.reauthenticate),
        {"area": otp.CONSOLE},
        name="reauth",
    ),
    path("cooperatives/new/", views.console_onboard, name="onboard"),
    path("cooperatives/<str:code>/suspend/", views.console_suspend, name="suspend"),
    path("cooperatives/<str:code>/resume/", views.console_resume, name="resume"),
    path("audit/", views.console_audit, name="audit"),
    path("alerts/", alerts.alerts, name="alerts"),
    path("alerts/<int:pk>/acknowledge/", alerts.acknowledge, name="acknowledge_alert"),
]
