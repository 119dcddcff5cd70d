from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from prospects import views as prospect_views

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/login/", prospect_views.login, name="login"),
    path("admin/workspace/", prospect_views.switch_workspace, name="switch-workspace"),
    path("admin/", admin.site.urls),
    path("enrichment/", include("enrichment.urls")),
]
