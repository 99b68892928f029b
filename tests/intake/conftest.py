from __future__ import annotations

from tests.webhooks.conftest import post, secret  # noqa: F401  (the webhook's own fixtures)
from tests.webhooks.test_harbor import harbor  # noqa: F401  (a local Harbor v2.0 API)
