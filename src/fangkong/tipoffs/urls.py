"""URLs of the tipoffs pages, mounted under /tipoffs/."""

from django.urls import path

from . import views

app_name = "tipoffs"

urlpatterns = [
    path("", views.tip_list, name="home"),
    path("report/", views.report, name="report"),
    path("report/<str:code>/", views.receipt, name="receipt"),
    path("status/", views.status, name="status"),
    path("new/", views.tip_new, name="new"),
    path("<int:tip_id>/", views.tip_detail, name="tip"),
    path("<int:tip_id>/photos/<int:photo_id>.jpg", views.tip_photo, name="photo"),
    path("rewards/", views.rewards, name="rewards"),
    path("poster/<str:village>/", views.poster, name="poster"),
]
