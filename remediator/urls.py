from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from remediator.api import operability
from remediator.api.vex_repository import VexRepositoryManifestApi
from remediator.dashboard.sso.local_login import admin_sign_in

admin.site.site_header = "Remediator administration"
admin.site.site_title = "Remediator admin"
admin.site.index_title = "Policies, build targets, findings and deliveries"

urlpatterns = [
    # LOCAL_LOGIN=false: the admin's password form too is switched off (docs/sso.md)
    path("admin/login/", admin_sign_in, name="admin-sign-in"),
    path("admin/", admin.site.urls),
    path("healthz", operability.healthz, name="healthz"),
    path("readyz", operability.readyz, name="readyz"),
    path("metrics", operability.metrics, name="metrics"),
    # The VEX repository's manifest, where Trivy looks for it under the configured URL.
    path(
        ".well-known/vex-repository.json",
        VexRepositoryManifestApi.as_view(),
        name="vex-repository-manifest",
    ),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's init script from a URL: no inline script (CSP).
    path(
        "api/v1/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"
    ),
    path("api/v1/", include("remediator.api.urls")),
    path("", include("remediator.dashboard.urls")),
]

# /api/ answers JSON errors; pages keep Django's HTML ones (templates/404.html, 403.html).
handler400 = "remediator.api.handlers.bad_request"
handler403 = "remediator.api.handlers.permission_denied"
handler404 = "remediator.api.handlers.page_not_found"
handler500 = "remediator.api.handlers.server_error"
