"""URLs of the checkpoints pages, mounted under /checkpoints/."""

from django.urls import path

from . import views

app_name = "checkpoints"

urlpatterns = [
    path("", views.home, name="home"),
    path("post/", views.my_post, name="post"),
    path("posts/new/", views.post_edit, name="post_new"),
    path("posts/<int:post_id>/", views.post_detail, name="post_detail"),
    path("posts/<int:post_id>/edit/", views.post_edit, name="post_edit"),
    path("posts/<int:post_id>/log/", views.log, name="log"),
    path("posts/<int:post_id>/check/", views.check, name="check"),
    path("cards/", views.cards, name="cards"),
    path("rosters/", views.rosters, name="rosters"),
    path("rosters/<int:roster_id>/", views.roster_detail, name="roster"),
    path("check-in/<int:assignment_id>/", views.check_in, name="check_in"),
    path("inspections/", views.inspections, name="inspections"),
    path("inspections/new/", views.inspection_new, name="inspection_new"),
    path("inspections/<int:inspection_id>/", views.inspection_detail, name="inspection"),
    path("push/", views.push, name="push"),
]
