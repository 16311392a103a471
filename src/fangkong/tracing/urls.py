from django.urls import path

from . import views

app_name = "tracing"

urlpatterns = [
    path("", views.home, name="home"),
    path("cases/new/", views.case_new, name="case_new"),
    path("cases/<int:case_id>/", views.case_detail, name="case_detail"),
    path("cases/<int:case_id>/status/", views.case_status, name="case_status"),
    path("cases/<int:case_id>/timeline/", views.case_timeline, name="case_timeline"),
    path("cases/<int:case_id>/contacts/", views.case_contact, name="case_contact"),
    path("events/new/", views.event_new, name="event_new"),
    path("tasks/<int:task_id>/reached/", views.task_reached, name="task_reached"),
    path("isolation/", views.isolation_handover, name="isolation_handover"),
    path("chains/", views.chains, name="chains"),
    path("chains.xlsx", views.chains_xlsx, name="chains_xlsx"),
    path("notices/", views.notices, name="notices"),
    path("notices/<int:notice_id>/", views.notice_detail, name="notice_detail"),
    path("import/", views.line_list_import, name="import"),
]
