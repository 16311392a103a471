"""URLs of the testing pages, mounted under /testing/."""

from django.urls import path

from . import views

app_name = "testing"

urlpatterns = [
    path("", views.home, name="home"),
    path("scan/", views.scan, name="scan"),
    path("rounds/<int:campaign_id>/", views.campaign_detail, name="campaign"),
    path("rounds/<int:campaign_id>/status/", views.campaign_status, name="campaign_status"),
    path("rounds/<int:campaign_id>/untested/", views.untested, name="untested"),
    path("rounds/<int:campaign_id>/sample/", views.sample, name="sample"),
    path("rounds/<int:campaign_id>/results/", views.results, name="results"),
    path("rounds/<int:campaign_id>/recalls/", views.recalls, name="recalls"),
    path("points/", views.points, name="points"),
    path("points/<int:point_id>/", views.point_detail, name="point"),
    path("points/<int:point_id>/plan/", views.point_plan, name="plan"),
    path("tasks/", views.tasks, name="tasks"),
    path("tasks/<int:task_id>/done/", views.task_done, name="task_done"),
    path("suspected/", views.suspected, name="suspected"),
    path("register/", views.register, name="register"),
]
