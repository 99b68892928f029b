"""gunicorn settings for the Procfile's web process (``-c python:remediator.gunicorn_conf``).

Its access log writes each request line, and a sender may put a webhook secret in
the URL path (or, wrongly, the query string): every record of the access and error
logs goes through :class:`remediator.core.redact.RedactSecretsFilter` first.
Everything else (bind, workers, log files) stays on the command line.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from remediator.core.redact import RedactSecretsFilter


class RedactingLogger(Logger):
    """gunicorn's logger, with secrets redacted from the access and error logs."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, RedactSecretsFilter) for f in log.filters):
                log.addFilter(RedactSecretsFilter())


logger_class = RedactingLogger
