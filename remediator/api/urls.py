"""Routes under /api/v1/ owned by the action engine."""

from django.urls import path

from . import risk, views

urlpatterns = [
    path("actions/", views.ActionListApi.as_view(), name="api-action-list"),
    path("actions/<int:pk>/", views.ActionDetailApi.as_view(), name="api-action-detail"),
    path("actions/<int:pk>/approve/", views.ActionApproveApi.as_view(), name="api-action-approve"),
    path("actions/<int:pk>/reject/", views.ActionRejectApi.as_view(), name="api-action-reject"),
    path("actions/<int:pk>/cancel/", views.ActionCancelApi.as_view(), name="api-action-cancel"),
    path("actions/<int:pk>/retry/", views.ActionRetryApi.as_view(), name="api-action-retry"),
    path(
        "actions/<int:pk>/dockerfile-patch/",
        views.ActionDockerfilePatchApi.as_view(),
        name="api-action-dockerfile-patch",
    ),
    path("findings/<int:pk>/accept/", risk.FindingAcceptApi.as_view(), name="api-finding-accept"),
    path(
        "findings/<int:pk>/false-positive/",
        risk.FindingFalsePositiveApi.as_view(),
        name="api-finding-false-positive",
    ),
    path("findings/<int:pk>/reopen/", risk.FindingReopenApi.as_view(), name="api-finding-reopen"),
    path("images/<int:pk>/rebuild/", views.ImageRebuildApi.as_view(), name="api-image-rebuild"),
]
