from django.urls import path

from . import views

app_name = "enrichment"
urlpatterns = [
    path("progress/", views.progress, name="progress"),
    path("progress/partial/", views.progress_partial, name="progress-partial"),
    path("jobs/", views.job_list, name="jobs"),
    path("jobs/<int:pk>/progress/", views.job_progress, name="job-progress"),
    path("prospects/<int:pk>/panel/", views.prospect_panel, name="prospect-panel"),
    path("prospects/<int:pk>/reenrich/", views.reenrich_prospect, name="reenrich"),
    path("prospects/<int:pk>/use-email/", views.use_found_email, name="use-email"),
]
