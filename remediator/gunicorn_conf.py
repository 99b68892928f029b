"""gunicorn settings for the Procfile's web process (``-c python:remediator.gunicorn_conf``).

Its access log writes each request line, and a sender may put a webhook secret in
the URL path (or, wrongly, the query string): every record of the access and error
logs goes through :class:`remediator.core.redact.RedactSecretsFilter` first, then
:class:`remediator.core.logsafe.OneLineFilter` (a request line or header holding
control characters, or one that redaction decoded into them, stays on its line).

What gunicorn refuses before Django sees it (a request line or headers past the
limits below, a malformed header...) is answered with the JSON error every other
refusal gets (``remediator/gunicorn_errors.py``), and request bodies are read in 64 KiB
blocks rather than gunicorn's 1 KiB (``remediator/gunicorn_body.py``): gunicorn's
gthread worker with those two changes. The limits are gunicorn's defaults, written out:
a request line of 4 KiB holds any webhook URL with its ``?image=``, and 8 KiB per header
any token.
Everything else (bind, workers, threads, log files) stays on the command line.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from remediator.core.logsafe import OneLineFilter
from remediator.core.redact import RedactSecretsFilter
from remediator.gunicorn_body import WebThreadWorker


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
worker_class = WebThreadWorker
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
