from django.urls import path

from bench.floor import views

urlpatterns = [
    path("floor/dashboard", views.dashboard),
    path("floor/ledger/<int:premises_id>", views.ledger),
    path("floor/documents", views.documents),
]
