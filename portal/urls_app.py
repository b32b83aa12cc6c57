from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("c/<int:company_id>/", views.company_home, name="company_home"),
    path("switch/", views.switch_company, name="switch_company"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/bell/", views.notification_bell, name="notification_bell"),
    path("preferences/", views.preferences, name="preferences"),
]
