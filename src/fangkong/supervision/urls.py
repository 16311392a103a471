"""URLs of the supervision pages, mounted under /supervision/."""

from django.urls import path

from . import views

app_name = "supervision"

urlpatterns = [
    path("", views.home, name="home"),
    path("inspections/", views.inspections, name="inspections"),
    path("inspections/<int:inspection_id>/", views.inspection, name="inspection"),
    path("items/<int:item_id>/", views.item_record, name="item_record"),
    path("items/<int:item_id>/photo.jpg", views.item_photo, name="item_photo"),
    path("rectifications/", views.rectifications, name="rectifications"),
    path("rectifications/<int:rectification_id>/", views.rectification, name="rectification"),
    path("discipline/", views.discipline, name="discipline"),
    path("bulletin/", views.bulletin, name="bulletin"),
    path("video/", views.video_checks, name="video"),
]
