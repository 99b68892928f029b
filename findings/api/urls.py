"""Routes under /api/v1/ owned by the findings app."""

from django.urls import path, re_path
from drf_spectacular.utils import extend_schema

from . import views
from .webhooks import WebhookApi, WebhookSecretPathApi


# Also accept the URLs without their trailing slash (a POST cannot follow a redirect).
@extend_schema(exclude=True)
class WebhookNoSlashApi(WebhookApi):
    pass


@extend_schema(exclude=True)
class WebhookSecretNoSlashApi(WebhookSecretPathApi):
    pass


urlpatterns = [
    path("webhooks/<str:source>/", WebhookApi.as_view(), name="api-webhook"),
    path(
        "webhooks/<str:source>/<str:secret>/",
        WebhookSecretPathApi.as_view(),
        name="api-webhook-secret",
    ),
    re_path(r"^webhooks/(?P<source>[^/]+)$", WebhookNoSlashApi.as_view()),
    re_path(r"^webhooks/(?P<source>[^/]+)/(?P<secret>[^/]+)$", WebhookSecretNoSlashApi.as_view()),
    path("images/", views.ImageListApi.as_view(), name="api-image-list"),
    path("images/<int:pk>/", views.ImageDetailApi.as_view(), name="api-image-detail"),
    path("scans/", views.ScanListApi.as_view(), name="api-scan-list"),
    path("scans/<int:pk>/", views.ScanDetailApi.as_view(), name="api-scan-detail"),
    path("findings/", views.FindingListApi.as_view(), name="api-finding-list"),
    path("findings/<int:pk>/", views.FindingDetailApi.as_view(), name="api-finding-detail"),
    path("vulnerabilities/", views.VulnerabilityListApi.as_view(), name="api-vulnerability-list"),
    path(
        "vulnerabilities/<path:pk>/",
        views.VulnerabilityDetailApi.as_view(),
        name="api-vulnerability-detail",
    ),
    path("deliveries/", views.DeliveryListApi.as_view(), name="api-delivery-list"),
    path("deliveries/<int:pk>/", views.DeliveryDetailApi.as_view(), name="api-delivery-detail"),
    path(
        "deliveries/<int:pk>/reprocess/",
        views.DeliveryReprocessApi.as_view(),
        name="api-delivery-reprocess",
    ),
]
