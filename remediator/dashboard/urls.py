"""Dashboard page routes (included at "/")."""

from django.contrib.auth import views as auth_views
from django.urls import path

from remediator.dashboard.sso import local_login
from remediator.dashboard.sso import views as sso_views
from remediator.dashboard.views import (
    actions,
    approvals,
    audit,
    bulk,
    decisions,
    deliveries,
    findings,
    images,
    overview,
    policies,
    reports,
    search,
    setup,
)

urlpatterns = [
    path("login/", local_login.SignInView.as_view(), name="login"),
    path("login/local/", local_login.BreakGlassSignInView.as_view(), name="login-local"),
    path("oidc/authenticate/", sso_views.SsoStartView.as_view(), name="oidc-start"),
    path("oidc/callback/", sso_views.sso_callback, name="oidc-callback"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", overview.overview, name="overview"),
    path("search/", search.search, name="search"),
    path("images/", images.image_list, name="image-list"),
    path("images/<int:pk>/", images.image_detail, name="image-detail"),
    path("tags/<int:tag_id>/rebuild/", actions.tag_request_rebuild, name="tag-rebuild"),
    path(
        "tags/<int:tag_id>/pull-request/",
        actions.tag_request_pull_request,
        name="tag-pull-request",
    ),
    path("findings/", findings.finding_list, name="finding-list"),
    path("findings/bulk/", bulk.findings_bulk, name="finding-bulk"),
    path("findings/export.csv", findings.finding_export, name="finding-export"),
    path("findings/<int:pk>/", findings.finding_detail, name="finding-detail"),
    path("findings/<int:pk>/accept/", decisions.finding_accept, name="finding-accept"),
    path(
        "findings/<int:pk>/false-positive/",
        decisions.finding_false_positive,
        name="finding-false-positive",
    ),
    path("findings/<int:pk>/reopen/", decisions.finding_reopen, name="finding-reopen"),
    path(
        "findings/<int:pk>/investigate/", decisions.finding_investigate, name="finding-investigate"
    ),
    path(
        "findings/<int:pk>/stop-investigating/",
        decisions.finding_stop_investigating,
        name="finding-stop-investigating",
    ),
    path("deliveries/", deliveries.delivery_list, name="delivery-list"),
    path("deliveries/<int:pk>/", deliveries.delivery_detail, name="delivery-detail"),
    path(
        "deliveries/<int:pk>/reprocess/",
        deliveries.delivery_reprocess,
        name="delivery-reprocess",
    ),
    path("actions/", actions.action_list, name="action-list"),
    path("actions/<int:pk>/", actions.action_detail, name="action-detail"),
    path(
        "actions/<int:pk>/<str:op>/",
        actions.action_operate,
        name="action-operate",
    ),
    path("approvals/", approvals.approval_queue, name="approval-queue"),
    path("policies/", policies.policy_list, name="policy-list"),
    path("policies/dry-run/", policies.policy_dry_run_request, name="policy-dry-run"),
    path("reports/", reports.report_page, name="reports"),
    path("reports/<slug:table>.csv", reports.report_export, name="report-export"),
    path("audit/", audit.audit_list, name="audit-list"),
    path("setup/", setup.setup_page, name="setup"),
    path("audit/export.csv", audit.audit_export, name="audit-export"),
]
