"""The containers' smoke test: real reports posted to a containerised Remediator, read
back through its API, an admission review denied, /readyz and /metrics answering.

    smoke.py --web http://127.0.0.1:18080 [--admission http://127.0.0.1:18081]

Reads WEBHOOK_SECRET, API_TOKEN, ADMISSION_TOKEN and METRICS_TOKEN from the environment.
Prints one line per request with its answer; exit status 1 at the first answer that is
not what a working install gives.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import uuid
from pathlib import Path

import requests
import urllib3

# The admission role's certificate names the Service; this test calls it by address.
urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"
SEED = FIXTURES / "aqua" / "seed_blog_simplified_payload.json"
TRIVY = FIXTURES / "trivy" / "trivy_alpine-39.json"
TIMEOUT = 10


class Failed(Exception):
    pass


def show(response: requests.Response, summary: str = "") -> None:
    request = response.request
    path = request.path_url if len(request.path_url) < 90 else request.path_url[:87] + "..."
    print(f"  {request.method} {path} -> {response.status_code} {summary}".rstrip())


def expect(response: requests.Response, status: int, summary: str = "") -> dict:
    show(response, summary)
    if response.status_code != status:
        raise Failed(f"expected {status}, got {response.status_code}: {response.text[:300]}")
    kind = response.headers.get("Content-Type", "")
    return response.json() if kind.startswith("application/json") else {}


def wait_ready(base: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            response = requests.get(f"{base}/readyz", timeout=TIMEOUT, verify=False)
            if response.status_code == 200:
                expect(response, 200, json.dumps(response.json()["status"]))
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise Failed(f"{base}/readyz not ready within {seconds:g} s")
        time.sleep(1)


def delivered(session: requests.Session, base: str, url: str) -> dict:
    """The delivery once the worker has processed it (within 60 s)."""
    deadline = time.monotonic() + 60
    while True:
        detail = session.get(f"{base}{url}", timeout=TIMEOUT).json()
        if detail.get("status") != "queued" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    response = session.get(f"{base}{url}", timeout=TIMEOUT)
    detail = expect(response, 200)
    print(f"    status {detail['status']}, scan {detail.get('scan')}")
    if detail["status"] != "processed":
        raise Failed(f"delivery {url} is {detail['status']}: {detail.get('error')}")
    return detail


def post_report(session, base, source, path, image, secret) -> dict:
    response = requests.post(  # a scanner: the webhook secret, not the API token
        f"{base}/api/v1/webhooks/{source}/",
        params={"image": image},
        data=path.read_bytes(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {secret}"},
        timeout=TIMEOUT,
    )
    body = expect(response, 202, f"({path.name}, {path.stat().st_size:,} bytes)")
    return delivered(session, base, body["url"])


def findings_of(session, base, scan: int) -> list[dict]:
    response = session.get(f"{base}/api/v1/findings/", params={"scan": scan}, timeout=TIMEOUT)
    results = expect(response, 200)["results"]
    ids = sorted(
        {
            row["vulnerability"]["id"]
            if isinstance(row.get("vulnerability"), dict)
            else row.get("cve") or row.get("vulnerability_id")
            for row in results
        }
    )
    print(
        f"    {len(results)} finding(s) on the first page: {', '.join(map(str, ids[:6]))}"
        + (" ..." if len(ids) > 6 else "")
    )
    if not results:
        raise Failed(f"scan {scan} has no findings")
    return results


def review(image: str) -> dict:
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": str(uuid.uuid4()),
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "namespace": "shop",
            "operation": "CREATE",
            "userInfo": {"username": "system:serviceaccount:shop:deployer", "groups": []},
            "object": {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "my-app", "namespace": "shop"},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
        },
    }


def admission_denied(base: str, token: str, image: str) -> None:
    response = requests.post(
        f"{base}/api/v1/admission/validate",
        json=review(image),
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT,
        verify=False,  # the admission role's certificate names the Service
    )
    answer = expect(response, 200)["response"]
    message = answer.get("status", {}).get("message", "")
    show_message = message if len(message) < 110 else message[:107] + "..."
    print(f"    allowed={answer['allowed']}: {show_message}")
    if answer["allowed"]:
        raise Failed(f"the review of {image} was allowed")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--web", required=True)
    parser.add_argument("--admission", help="the admission role's URL (default: --web)")
    parser.add_argument("--wait", type=float, default=180.0)
    args = parser.parse_args()
    web, admission = args.web.rstrip("/"), (args.admission or args.web).rstrip("/")
    secret = os.environ["WEBHOOK_SECRET"]
    session = requests.Session()
    session.headers["Authorization"] = f"Token {os.environ['API_TOKEN']}"
    try:
        wait_ready(web, args.wait)
        expect(requests.get(f"{web}/healthz", timeout=TIMEOUT), 200)
        seed = post_report(session, web, "aqua", SEED, "my-app:latest", secret)
        findings_of(session, web, seed["scan"])
        trivy = post_report(session, web, "trivy", TRIVY, "", secret)
        findings_of(session, web, trivy["scan"])
        unauthenticated = requests.post(
            f"{web}/api/v1/webhooks/trivy/", data=b"{}", timeout=TIMEOUT
        )
        expect(unauthenticated, 401, "(no secret: refused)")
        if admission != web:
            wait_ready(admission, args.wait)
        admission_denied(
            admission, os.environ["ADMISSION_TOKEN"], "docker.io/library/my-app:latest"
        )
        metrics = requests.get(
            f"{web}/metrics",
            headers={"Authorization": f"Bearer {os.environ['METRICS_TOKEN']}"},
            timeout=TIMEOUT,
        )
        lines = [line for line in metrics.text.splitlines() if line.startswith("remediator_")]
        expect(metrics, 200, f"({len(lines)} remediator_* samples)")
        page = requests.get(f"{web}/login/", timeout=TIMEOUT)
        expect(page, 200, "(sign-in page)")
        stylesheet = re.search(r'href="(/static/[^"]+\.css)"', page.text)
        if stylesheet is None:
            raise Failed("the sign-in page links no stylesheet under /static/")
        static = requests.get(f"{web}{stylesheet[1]}", timeout=TIMEOUT)
        expect(static, 200, f"(static file, {len(static.content):,} bytes)")
    except (Failed, requests.RequestException, KeyError) as exc:
        print(f"smoke test FAILED: {type(exc).__name__}: {exc}")
        return 1
    print("smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
