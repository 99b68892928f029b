# Remediator's container image: one image for every role, chosen by the command
# (web, admission, worker, beat, migrate, check, manage ...; deploy/image/entrypoint).
# Built and started in CI by `make image-test`; docs/container.md says how to run it.

# ---- build: a virtual environment with the pinned dependencies, static files collected
FROM docker.io/library/debian:bookworm-slim AS build
ENV DEBIAN_FRONTEND=noninteractive \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY deploy/image/requirements.txt /tmp/requirements.txt
# Every dependency installs from a wheel: no compiler in this stage either. Behind a
# TLS-intercepting proxy, give pip the proxy's CA bundle as the build secret "ca"
# (`--secret id=ca,src=/etc/ssl/certs/ca-certificates.crt`); it is not kept in the image.
RUN --mount=type=secret,id=ca,required=false \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi \
    && python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --only-binary=:all: --requirement /tmp/requirements.txt \
    && /opt/venv/bin/pip uninstall --yes --quiet pip setuptools
COPY . /app
WORKDIR /app
RUN DATA_DIR=/tmp/build SECRET_KEY=collectstatic-only STATIC_ROOT=/app/staticfiles \
    /opt/venv/bin/python manage.py collectstatic --noinput --verbosity 0 \
    && /opt/venv/bin/python -m compileall -q -j 0 /app/remediator /app/findings \
    && rm -rf /tmp/build

# ---- runtime: Debian's Python, the venv and the code; no compiler, no package manager cache
FROM docker.io/library/debian:bookworm-slim
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=""
LABEL org.opencontainers.image.title="Remediator" \
      org.opencontainers.image.description="Turns container-vulnerability scan reports into verified fixes." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 tini ca-certificates \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/debconf/*-old \
       /var/log/apt /var/log/dpkg.log \
    && groupadd --gid 10001 remediator \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin remediator \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/remediator \
    && ln -s /app/deploy/image/manage /usr/local/bin/manage
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DATA_DIR=/var/lib/remediator \
    STATIC_ROOT=/app/staticfiles \
    WHITENOISE_USE_FINDERS=false \
    BIND=0.0.0.0 \
    PORT=8000
WORKDIR /app
USER 10001:10001
VOLUME ["/var/lib/remediator"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["/app/deploy/image/healthcheck.py"]
ENTRYPOINT ["/usr/bin/tini", "--", "/app/deploy/image/entrypoint"]
CMD ["web"]
