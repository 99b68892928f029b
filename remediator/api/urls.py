"""Every route under /api/v1/: webhooks, the read API, actions and risk decisions."""

from django.urls import path, re_path

from remediator.api import admission, vex_repository, webhooks
from remediator.api.views import (
    actions,
    admission_policies,
    bulk,
    findings,
    policies,
    reports,
    risk,
    vex,
    vex_statements,
)

SPEC = "0.1"  # the VEX Repository Specification version the archive follows

urlpatterns = [
    path("webhooks/<str:source>/", webhooks.WebhookApi.as_view(), name="api-webhook"),
    path(
        "webhooks/<str:source>/<str:secret>/",
        webhooks.WebhookSecretPathApi.as_view(),
        name="api-webhook-secret",
    ),
    re_path(r"^webhooks/(?P<source>[^/]+)$", webhooks.WebhookNoSlashApi.as_view()),
    re_path(
        r"^webhooks/(?P<source>[^/]+)/(?P<secret>[^/]+)$",
        webhooks.WebhookSecretNoSlashApi.as_view(),
    ),
    path("admission/validate", admission.admission_validate, name="api-admission-validate"),
    path(
        "admission/validate/<str:cluster>",
        admission.admission_validate,
        name="api-admission-validate-cluster",
    ),
    path("inventory/", admission.inventory_push, name="api-inventory-push"),
    path("images/", findings.ImageListApi.as_view(), name="api-image-list"),
    path("images/<int:pk>/", findings.ImageDetailApi.as_view(), name="api-image-detail"),
    path("images/<int:pk>/rebuild/", actions.ImageRebuildApi.as_view(), name="api-image-rebuild"),
    path(
        "images/<int:pk>/pull-request/",
        actions.ImagePullRequestApi.as_view(),
        name="api-image-pull-request",
    ),
    path("images/<int:pk>/vex/", vex.ImageVexApi.as_view(), name="api-image-vex"),
    path(
        "images/<int:pk>/trivyignore/",
        vex.ImageTrivyIgnoreApi.as_view(),
        name="api-image-trivyignore",
    ),
    path(
        "images/<int:pk>/grype-ignore/",
        vex.ImageGrypeIgnoreApi.as_view(),
        name="api-image-grype-ignore",
    ),
    path(
        f"vex-repository/{SPEC}/{vex_repository.ARCHIVE}",
        vex_repository.VexRepositoryArchiveApi.as_view(),
        name="vex-repository-archive",
    ),
    path(
        f"vex-repository/{SPEC}/index.json",
        vex_repository.VexRepositoryIndexApi.as_view(),
        name="vex-repository-index",
    ),
    path(
        f"vex-repository/{SPEC}/pkg/<path:location>",
        vex_repository.VexRepositoryDocumentApi.as_view(),
        name="vex-repository-document",
    ),
    path("scans/", findings.ScanListApi.as_view(), name="api-scan-list"),
    path("scans/<int:pk>/", findings.ScanDetailApi.as_view(), name="api-scan-detail"),
    path("findings/", findings.FindingListApi.as_view(), name="api-finding-list"),
    path("findings/bulk/", bulk.FindingBulkApi.as_view(), name="api-finding-bulk"),
    path("findings/<int:pk>/", findings.FindingDetailApi.as_view(), name="api-finding-detail"),
    path("findings/<int:pk>/accept/", risk.FindingAcceptApi.as_view(), name="api-finding-accept"),
    path(
        "findings/<int:pk>/false-positive/",
        risk.FindingFalsePositiveApi.as_view(),
        name="api-finding-false-positive",
    ),
    path("findings/<int:pk>/reopen/", risk.FindingReopenApi.as_view(), name="api-finding-reopen"),
    path(
        "findings/<int:pk>/vex-statements/",
        vex_statements.FindingVexStatementsApi.as_view(),
        name="api-finding-vex-statements",
    ),
    path("vex/imports/", vex_statements.VexImportListApi.as_view(), name="api-vex-import-list"),
    path(
        "findings/<int:pk>/investigate/",
        risk.FindingInvestigateApi.as_view(),
        name="api-finding-investigate",
    ),
    path(
        "findings/<int:pk>/stop-investigating/",
        risk.FindingStopInvestigatingApi.as_view(),
        name="api-finding-stop-investigating",
    ),
    path(
        "vulnerabilities/", findings.VulnerabilityListApi.as_view(), name="api-vulnerability-list"
    ),
    path(
        "vulnerabilities/<path:pk>/",
        findings.VulnerabilityDetailApi.as_view(),
        name="api-vulnerability-detail",
    ),
    path("deliveries/", findings.DeliveryListApi.as_view(), name="api-delivery-list"),
    path("deliveries/<int:pk>/", findings.DeliveryDetailApi.as_view(), name="api-delivery-detail"),
    path(
        "deliveries/<int:pk>/reprocess/",
        findings.DeliveryReprocessApi.as_view(),
        name="api-delivery-reprocess",
    ),
    path(
        "policies/<int:pk>/backtest/",
        policies.PolicyBacktestApi.as_view(),
        name="api-policy-backtest",
    ),
    path(
        "admission-policies/",
        admission_policies.AdmissionPolicyListApi.as_view(),
        name="api-admission-policy-list",
    ),
    path(
        "admission-policies/<int:pk>/would-deny/",
        admission_policies.AdmissionPolicyWouldDenyApi.as_view(),
        name="api-admission-policy-would-deny",
    ),
    path(
        "reports/remediation/",
        reports.RemediationReportApi.as_view(),
        name="api-report-remediation",
    ),
    path("actions/", actions.ActionListApi.as_view(), name="api-action-list"),
    path("actions/<int:pk>/", actions.ActionDetailApi.as_view(), name="api-action-detail"),
    *(
        path(
            f"actions/<int:pk>/{gate}/",
            actions.ActionGateApi.for_gate(gate).as_view(),
            name=f"api-action-{gate}",
        )
        for gate in actions.GATE_DOCS
    ),
    path(
        "actions/<int:pk>/dockerfile-patch/",
        actions.ActionDockerfilePatchApi.as_view(),
        name="api-action-dockerfile-patch",
    ),
]
