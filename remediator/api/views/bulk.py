"""One decision about many findings: ``POST /api/v1/findings/bulk/`` (the findings
page's checkboxes do the same through ``remediator.engine.services.bulk``)."""

from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from findings.justifications import JUSTIFICATIONS
from remediator.api.permissions import Needs
from remediator.api.serializers.fields import TextField
from remediator.api.serializers.findings import ErrorSerializer
from remediator.api.services import service_call, valid_input
from remediator.api.views.actions import ERRORS, ActionsApi
from remediator.core import permissions
from remediator.core.storable import BIGINT_MAX
from remediator.engine.services.bulk import BULK_MAX, OPERATIONS, findings_decide_bulk


class BulkInput(serializers.Serializer):
    operation = serializers.ChoiceField(
        choices=list(OPERATIONS),
        help_text="accept (reason and until required), false_positive (reason required), "
        "rebuild or pull_request (one request per tag, covering its findings)",
    )
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=BIGINT_MAX),
        min_length=1,
        max_length=BULK_MAX,
        help_text=f"Finding ids, at most {BULK_MAX}",
    )
    reason = TextField(required=False, allow_blank=True, default="", max_length=4000)
    until = serializers.DateTimeField(
        required=False, allow_null=True, help_text="accept: when the acceptance ends"
    )
    justification = serializers.ChoiceField(
        choices=list(JUSTIFICATIONS),
        required=False,
        allow_blank=True,
        default="",
        help_text="false_positive: OpenVEX's justification for not_affected",
    )


class BulkResultSerializer(serializers.Serializer):
    finding_id = serializers.IntegerField()
    ok = serializers.BooleanField()
    status = serializers.CharField(help_text="The finding's status, or the action's state")
    code = serializers.CharField(help_text="Why not (not_found, wrong_state, not_covered, ...)")
    message = serializers.CharField()
    action_id = serializers.IntegerField(allow_null=True)


class BulkOutput(serializers.Serializer):
    done = serializers.IntegerField()
    failed = serializers.IntegerField()
    results = BulkResultSerializer(many=True)


INCOMPLETE = OpenApiResponse(
    ErrorSerializer,
    description="The operation needs what was not given: a reason (accept, false_positive), "
    "an end date in the future (accept): incomplete, until_past.",
)


class FindingBulkApi(ActionsApi, APIView):
    """Each finding goes through the single decision (same permissions, states and
    four-eyes rules, an audit event each): 200 with a result per finding, some of which
    may have failed; 400 for bad input, 403 without the operation's permission
    (accept, false_positive: approve_action; rebuild, pull_request: add_remediationaction)."""

    permission_classes = [Needs.of(permissions.VIEW_FINDING)]

    @extend_schema(
        operation_id="findings_bulk",
        tags=["findings"],
        summary="Decide about many findings at once; a result per finding",
        request=BulkInput,
        responses={200: BulkOutput, **ERRORS, 422: INCOMPLETE},
    )
    def post(self, request: Request) -> Response:
        data = valid_input(BulkInput, request)
        results = service_call(
            lambda: findings_decide_bulk(
                operation=data["operation"],
                finding_ids=data["ids"],
                user=request.user,
                reason=data["reason"],
                until=data.get("until"),
                justification=data["justification"],
            ),
            not_found=LookupError,
            what="finding",
        )
        done = sum(r.ok for r in results)
        body = {
            "done": done,
            "failed": len(results) - done,
            "results": [asdict(r) for r in results],
        }
        return Response(BulkOutput(body).data)
