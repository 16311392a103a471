"""URLs of the reports pages, mounted under /reports/."""

from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.board, name="board"),
    path("refresh/", views.refresh, name="refresh"),
    path("daily/", views.daily, name="daily"),
    path("daily/own/", views.own_daily_form, name="own_daily"),
    path("daily/<str:code>/", views.daily_form, name="daily_form"),
    path("inspection/", views.inspection_page, name="inspection"),
    path("inspection/run/", views.inspection_run, name="inspection_run"),
    path("problems/", views.problem_list, name="problems"),
    path("problems/<int:problem_id>/", views.problem_detail, name="problem"),
    path(
        "problems/<int:problem_id>/evidence/<int:evidence_id>/",
        views.evidence_file,
        name="evidence",
    ),
    path("dispatch/", views.dispatch, name="dispatch"),
    path("documents/", views.document_list, name="documents"),
    path("documents/<int:document_id>.docx", views.document_download, name="document"),
]
