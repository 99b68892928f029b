#!/usr/bin/env bash
# The end-to-end story, through Remediator's HTTP API alone, against a running instance
# and the local fake GitLab + Aqua (examples/fake_ci.py). One PASS/FAIL line per step;
# exit status 1 when any step failed.
#
#   1. a webhook with a fixable critical -> a rebuild awaiting approval, requested by alice
#      (she owns the policy); alice cannot approve it (four eyes), victor (Viewer) cannot;
#      bob approves twice at once -> one 200, one 409, exactly one trigger reaches GitLab
#   2. the pipeline is followed to success; a scan of the rebuilt image (same tag, new
#      digest) without the CVE -> the action is verified, the finding fixed
#   3. the same for another image where the CVE survives the rebuild -> verification_failed
#      and Aqua is asked to disallow the image
#   4. 50 webhooks (distinct bodies) with a fixable critical for one image -> one open action
#
# Run it (three terminals, from the project directory):
#   python3 examples/fake_ci.py --port 8108 --log var/fake_ci.jsonl
#   WEBHOOK_SECRET=storysecret REMEDIATOR_SECRET_GITLAB_TRIGGER=glptt-story REMEDIATOR_SECRET_GITLAB_API=glpat-story \
#     AQUA_URL=http://127.0.0.1:8108 AQUA_USERNAME=x AQUA_PASSWORD=y ACTION_POLL_INTERVAL=2 make run
#   eval "$(examples/story-setup.sh)"       # users alice, bob, victor + tokens, story.yaml
#   WEBHOOK_SECRET=storysecret FAKE_LOG=var/fake_ci.jsonl examples/story.sh
#
# Env: BASE (default http://127.0.0.1:8000), WEBHOOK_SECRET, ALICE_TOKEN, BOB_TOKEN,
# VICTOR_TOKEN, FAKE_LOG (the fake's --log file), TAG (default 1.0; use another tag to run
# the story again on the same instance), WAIT (seconds per wait, default 60).
set -uo pipefail
BASE=${BASE:-http://127.0.0.1:8000}
TAG=${TAG:-1.0}
WAIT=${WAIT:-60}
: "${WEBHOOK_SECRET:?}" "${ALICE_TOKEN:?}" "${BOB_TOKEN:?}" "${VICTOR_TOKEN:?}" "${FAKE_LOG:?}"
REG=registry.example.com
CVE=CVE-2024-6119
RUN=$(date +%s%N)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
# json EXPR: evaluate a Python expression over the JSON document `d` read from stdin.
json() { python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$@"; }
digest() { echo "sha256:$(printf '%s' "$RUN-$1" | sha256sum | cut -c1-64)"; }

# api TOKEN METHOD PATH [JSON]: the body goes to $tmp/body, the HTTP status to stdout.
api() {
  local args=(-sS -o "$tmp/body" -w '%{http_code}' -X "$2" -H "Authorization: Token $1")
  [ -n "${4:-}" ] && args+=(-H 'Content-Type: application/json' --data "$4")
  curl "${args[@]}" "$BASE$3"
}
body() { cat "$tmp/body"; }

# until_true SECONDS CMD...: run CMD every half second until it succeeds.
until_true() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do [ "$SECONDS" -ge "$deadline" ] && return 1; sleep 0.5; done
}

# scan_bodies DIR REPO DIGEST SCAN_ID WITH_CVE(1|0) N: N generic-format reports of one
# image, DIR/1.json ... DIR/N.json, scan ids SCAN_ID-1 ... SCAN_ID-N (one Python for all).
scan_bodies() {
  python3 - "$REG/$2" "$TAG" "$3" "$4" "$5" "$CVE" "$1" "$6" <<'PY'
import json, pathlib, sys
image, tag, digest, scan_id, with_cve, cve, folder, n = sys.argv[1:]
findings = [{"id": cve, "severity": "critical", "package": "openssl", "version": "3.3.1-r0",
             "fixedVersion": "3.3.2-r0", "description": "Possible denial of service"}]


def report(scan: str) -> str:
    return json.dumps({"scanId": scan, "imageName": image, "tag": tag, "digest": digest,
                       "status": "Success", "findings": findings if with_cve == "1" else []})


if folder == "-":
    print(report(scan_id))
else:
    for i in range(1, int(n) + 1):
        pathlib.Path(folder, f"{i}.json").write_text(report(f"{scan_id}-{i}"))
PY
}
# scan_body REPO DIGEST SCAN_ID WITH_CVE(1|0): one report, on stdout.
scan_body() { scan_bodies - "$@" 1; }

# post_webhook FILE [CURL_ARGS...]: post a report (FILE - : stdin) to the generic webhook.
post_webhook() {
  curl -sS -X POST -H "Authorization: Bearer $WEBHOOK_SECRET" -H 'Content-Type: application/json' \
    --data-binary "@$1" "${@:2}" "$BASE/api/v1/webhooks/generic/"
}
# post_scan REPO DIGEST SCAN_ID WITH_CVE: post it; prints the delivery id.
post_scan() { scan_body "$@" | post_webhook - | json 'd["delivery"]'; }
delivery_done() {
  [ "$(api "$BOB_TOKEN" GET "/api/v1/deliveries/$1/")" = 200 ] &&
    [ "$(body | json 'd["status"]')" = processed ]
}
scan_processed() { # WHAT REPO DIGEST SCAN_ID WITH_CVE
  local what=$1 id; shift
  id=$(post_scan "$@") || { fail "$what: webhook not accepted"; return 1; }
  check "$what: delivery $id accepted and processed" until_true "$WAIT" delivery_done "$id"
}
action_state() { api "$BOB_TOKEN" GET "/api/v1/actions/$1/" >/dev/null; body | json 'd["state"]'; }
state_is() { [ "$(action_state "$1")" = "$2" ]; }
awaiting_action() { # REPO: the one action awaiting approval for it, or nothing
  api "$BOB_TOKEN" GET "/api/v1/actions/?state=awaiting_approval&image=$REG/$1" >/dev/null
  body | json '" ".join(str(a["id"]) for a in d["results"] if a["tag"] == sys.argv[2])' "$TAG"
}
# fake_calls PATH_REGEX [CORRELATION_ID]: requests the fake received, one JSON line each.
fake_calls() {
  python3 - "$FAKE_LOG" "$1" "${2:-}" <<'PY'
import json, os, re, sys
log, pattern, correlation = sys.argv[1:]
if not os.path.exists(log):  # the fake writes it on its first request
    sys.exit(0)
for line in open(log, encoding="utf-8"):
    entry = json.loads(line)
    form = entry.get("form", {})
    if re.search(pattern, entry["path"]) and (
        not correlation or form.get("variables[REMEDIATOR_CORRELATION_ID]") == correlation
    ):
        print(json.dumps(entry))
PY
}
one_awaiting() { [ "$(awaiting_action "$1" | wc -w)" = 1 ]; }
count_is() { [ "$("${@:2}" | grep -c .)" = "$1" ]; }

# rebuild REPO: scan with the CVE -> awaiting approval -> approvals -> succeeded. Sets ACTION.
rebuild() {
  local repo=$1 ids correlation codes
  echo "--- $REG/$repo:$TAG (at ${SECONDS} s)"
  scan_processed "scan of $repo with $CVE" "$repo" "$(digest "$repo-1")" "$RUN-$repo-1" 1
  check "one rebuild of $repo:$TAG awaiting approval" until_true "$WAIT" one_awaiting "$repo"
  ids=$(awaiting_action "$repo"); ACTION=${ids%% *}
  [ -n "$ACTION" ] || { fail "no action to go on with"; return 1; }
  api "$BOB_TOKEN" GET "/api/v1/actions/$ACTION/" >/dev/null
  correlation=$(body | json 'd["correlation_id"]')
  check "action $ACTION requested by alice (policy owner)" \
    test "$(body | json 'd["requested_by"]')" = alice
  check "alice (the requester) cannot approve: 403 four_eyes" \
    test "$(api "$ALICE_TOKEN" POST "/api/v1/actions/$ACTION/approve/" '{}')-$(body | json 'd["error"]')" = 403-four_eyes
  check "victor (Viewer) cannot approve: 403 permission_denied" \
    test "$(api "$VICTOR_TOKEN" POST "/api/v1/actions/$ACTION/approve/" '{}')-$(body | json 'd["error"]')" = 403-permission_denied
  for i in 1 2; do
    curl -sS -o /dev/null -w '%{http_code}\n' -X POST -H "Authorization: Token $BOB_TOKEN" \
      -H 'Content-Type: application/json' --data '{"reason": "story"}' \
      "$BASE/api/v1/actions/$ACTION/approve/" >"$tmp/approve$i" &
  done
  wait
  codes=$(cat "$tmp/approve1" "$tmp/approve2" | sort | tr '\n' ' ')
  check "bob approves twice at once: one 200, one 409 (got $codes)" test "$codes" = "200 409 "
  check "exactly one trigger reached the fake GitLab" until_true "$WAIT" \
    count_is 1 fake_calls '/trigger/pipeline$' "$correlation"
  sleep 2  # a second trigger, were there one, would have arrived by now
  check "still exactly one trigger" count_is 1 fake_calls '/trigger/pipeline$' "$correlation"
  fake_calls '/trigger/pipeline$' "$correlation" | python3 -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    print("     trigger:", e["method"], e["path"])
    for k, v in e["form"].items():
        print(f"       {k} = {v}")'
  check "pipeline followed to succeeded" until_true "$WAIT" state_is "$ACTION" succeeded
}

rebuild shop/api
if [ -n "${ACTION:-}" ]; then
  scan_processed "scan of the rebuilt shop/api (new digest, no $CVE)" shop/api \
    "$(digest shop/api-2)" "$RUN-shop/api-2" 0
  check "action $ACTION verified" until_true "$WAIT" state_is "$ACTION" verified
  api "$BOB_TOKEN" GET "/api/v1/findings/?image=$REG/shop/api&tag=$TAG&vulnerability=$CVE" >/dev/null
  check "finding $CVE in shop/api:$TAG fixed" test "$(body | json 'd["results"][0]["status"]')" = fixed
fi

ACTION=
rebuild shop/worker
if [ -n "${ACTION:-}" ]; then
  scan_processed "scan of the rebuilt shop/worker (new digest, $CVE still there)" shop/worker \
    "$(digest shop/worker-2)" "$RUN-shop/worker-2" 1
  check "action $ACTION verification_failed" until_true "$WAIT" \
    state_is "$ACTION" verification_failed
  check "the fake Aqua was asked to disallow shop/worker" until_true "$WAIT" \
    bash -c "grep -F '/api/v1/images/disallow' '$FAKE_LOG' | grep -qF '\"shop/worker\"'"
  grep -F /api/v1/images/disallow "$FAKE_LOG" | sed 's/^/     aqua: /'
fi

echo "--- 50 webhooks for $REG/shop/batch:$TAG (at ${SECONDS} s)"
mkdir "$tmp/batch"
scan_bodies "$tmp/batch" shop/batch "$(digest shop/batch)" "$RUN-batch" 1 50
for i in $(seq 1 50); do
  post_webhook "$tmp/batch/$i.json" -o "$tmp/batch/$i.answer" &
done
wait
ids=$(python3 -c '
import json, sys
for path in sys.argv[1:]:
    try:
        print(json.load(open(path))["delivery"])
    except (OSError, ValueError, KeyError) as exc:
        print(f"{path}: no delivery id ({exc})", file=sys.stderr)' "$tmp"/batch/*.answer | sort -un)
check "50 webhooks accepted as 50 deliveries (posted by ${SECONDS} s)" test "$(echo "$ids" | grep -c .)" = 50
# Each delivery is asked about until it is processed, then never again (processed is final).
pending=($ids)
all_done() {
  while [ "${#pending[@]}" -gt 0 ]; do
    delivery_done "${pending[0]}" || return 1
    pending=("${pending[@]:1}")
  done
}
check "all 50 processed" until_true "$((WAIT * 3))" all_done
api "$BOB_TOKEN" GET "/api/v1/actions/?open=true&image=$REG/shop/batch" >/dev/null
check "exactly one open action for shop/batch:$TAG" \
  test "$(body | json 'len([a for a in d["results"] if a["tag"] == sys.argv[2]])' "$TAG")" = 1

echo "--- $failures step(s) failed, ${SECONDS} s"
[ "$failures" = 0 ]
