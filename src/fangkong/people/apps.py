from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "fangkong.people"
    label = "people"
    verbose_name = "人员登记"
