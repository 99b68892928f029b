"""gunicorn settings for the Procfile's web process (``-c python:remediator.gunicorn_conf``).

Its access log writes each request line, and a sender may put a webhook secret in
the URL path (or, wrongly, the query string): every record of the access and error
logs goes through :class:`remediator.core.redact.RedactSecretsFilter` first, then
:class:`remediator.core.logsafe.OneLineFilter` (a request line or header holding
control characters, or one that redaction decoded into them, stays on its line).
Everything else (bind, workers, log files) stays on the command line.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from remediator.core.logsafe import OneLineFilter
from remediator.core.redact import RedactSecretsFilter


class RedactingLogger(Logger):
    """gunicorn's logger, with secrets redacted from the access and error logs and each
    record kept on one line."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for kind in (RedactSecretsFilter, OneLineFilter):  # in this order
                if not any(isinstance(f, kind) for f in log.filters):
                    log.addFilter(kind())


logger_class = RedactingLogger
