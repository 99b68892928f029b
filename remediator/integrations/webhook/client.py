"""Generic webhook: POST a signed rebuild request to any URL.

The body is JSON of type ``remediator.rebuild.requested``, signed the Standard
Webhooks way (``webhook-id`` = ``msg_<correlation id>_<dispatch number>``, stable
across the transient retries of one dispatch so receivers can drop duplicates,
new when a person retries the action; ``webhook-timestamp``;
``webhook-signature``) with the secret held by ``token_env``.

A webhook has no run to poll: a 2xx answer is reported "succeeded" with the
detail "delivered; the receiver reports no status". The closed loop still
holds: the action is verified (or not) by the next scan of the rebuilt image.
"""

from __future__ import annotations

import json
import time
from datetime import datetime

from remediator.core.errors import ProviderError
from remediator.core.signing import standard_webhooks_headers
from remediator.integrations.ci import CITarget, RunStatus, TriggerRequest
from remediator.integrations.http import HttpClient, ping_error, require_secret

EVENT_TYPE = "remediator.rebuild.requested"
DELIVERED = "delivered; the receiver reports no status"


def webhook_body(request: TriggerRequest) -> dict:
    return {
        "type": EVENT_TYPE,
        "timestamp": int(time.time()),
        "correlation_id": request.correlation_id,
        "image": request.image,
        "digest": request.digest,
        "vulnerabilities": list(request.vulnerability_ids),
        "packages": [{"name": n, "fixed_version": v} for n, v in request.packages],
        "details_url": request.details_url,
    }


class GenericWebhook:
    label = "Generic webhook"
    slug = "webhook"

    def __init__(self, target: CITarget) -> None:
        self.target = target
        if not target.url:
            raise ProviderError(f"build target {target.name}: url is required", permanent=True)

    def _secret(self) -> str:
        return require_secret(self.target.token_env, what=f"webhook secret of {self.target.name}")

    def trigger(self, request: TriggerRequest) -> RunStatus:
        secret = self._secret()
        body = json.dumps(webhook_body(request), separators=(",", ":")).encode()
        msg_id = f"msg_{request.correlation_id}_{request.dispatch_number}"
        headers = {"Content-Type": "application/json"}
        headers |= standard_webhooks_headers(secret, msg_id, body)
        response = HttpClient("webhook").request(
            "POST", self.target.url, data=body, headers=headers, expected=range(200, 300)
        )
        return RunStatus(
            "succeeded",
            {"msg_id": msg_id, "status": response.status_code},
            external_id=msg_id,
            detail=DELIVERED,
        )

    def status(self, provider_state: dict) -> RunStatus:
        return RunStatus(
            "succeeded",
            dict(provider_state),
            external_id=provider_state.get("msg_id", ""),
            detail=DELIVERED,
        )

    def find_run(self, request: TriggerRequest, since: datetime) -> RunStatus | None:
        """A generic receiver cannot be asked; it gets the same ``webhook-id`` again and
        can drop the repeat (Standard Webhooks): None."""
        return None

    def ping(self) -> str:
        """Only the configuration: a POST would be a request to rebuild."""
        return ping_error(self._secret)
