from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from config.api import api
from prospects import views as prospect_views
from prospects import workspace_views

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/login/", prospect_views.login, name="login"),
    path("admin/workspace/", prospect_views.switch_workspace, name="switch-workspace"),
    path("admin/workspace/choose/", workspace_views.choose_workspace, name="choose-workspace"),
    path("admin/invitations/", workspace_views.invitation_list, name="invitations"),
    path(
        "admin/invitations/<int:pk>/<slug:answer>/",
        workspace_views.invitation_answer,
        name="invitation-answer",
    ),
    path("admin/", admin.site.urls),
    path("enrichment/", include("enrichment.urls")),
    path("api/v1/", api.urls),
]
