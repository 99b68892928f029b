"""Fake GitHub and GitLab repositories for fix pull requests, on pytest-httpserver.

They answer as the published REST APIs do for the endpoints Remediator uses (GitHub:
repos/contents, git/ref(s), pulls, actions/runs; GitLab v4: repository/files,
repository/branches, repository/commits, merge_requests, pipelines): the token is
checked, a stale file version is refused (GitHub 409, GitLab 400), creating an
existing branch or a second pull request for a branch is refused (422 / 409), a branch
already gone answers GitHub's 422 "Reference does not exist" / GitLab's 404, links
(``html_url``, ``web_url``) are on the host's own site as GitHub Enterprise Server's and
GitLab's are, and GitLab shows a merge request it is merging as ``locked``. The test
drives the people: ``merge``, ``close``, ``lock``, ``human_push``, ``finish_build``; and
the bad days: ``fault`` makes one endpoint answer otherwise (a status, headers and body
instead of the real answer, after it, or the real JSON with some fields changed).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from werkzeug import Request, Response

GITHUB_TOKEN = "ghp_FAKE-token-never-logged"
GITLAB_TOKEN = "glpat-FAKE-api-token-never-logged"


def blob_sha(text: str) -> str:
    data = text.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Repo:
    """A tiny git: commits (sha -> files, parent, author), branches, pulls, builds."""

    files: dict[str, str]
    base: str = "main"
    commits: dict[str, dict] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    pulls: list[dict] = field(default_factory=list)
    builds: list[dict] = field(default_factory=list)
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.branches[self.base] = self.commit(None, dict(self.files), "seed", "human")

    def commit(self, parent: str | None, files: dict, message: str, author: str) -> str:
        sha = hashlib.sha1(f"{parent}{json.dumps(files)}{next(self.counter)}".encode()).hexdigest()
        self.commits[sha] = {"parent": parent, "files": files, "message": message, "by": author}
        return sha

    def file(self, ref: str, path: str) -> str | None:
        sha = self.branches.get(ref, ref)
        return self.commits.get(sha, {}).get("files", {}).get(path)

    def last_commit_of(self, ref: str, path: str) -> str:
        """The newest commit on ``ref`` that changed ``path`` (GitLab's last_commit_id)."""
        sha = self.branches[ref]
        while True:
            parent = self.commits[sha]["parent"]
            if parent is None or self.commits[parent]["files"].get(path) != self.file(sha, path):
                return sha
            sha = parent

    def push(self, branch: str, path: str, text: str, message: str, author: str) -> str:
        files = dict(self.commits[self.branches[branch]]["files"], **{path: text})
        self.branches[branch] = self.commit(self.branches[branch], files, message, author)
        return self.branches[branch]

    def human_push(self, branch: str, path: str, text: str) -> str:
        return self.push(branch, path, text, "my own change", "human")

    def pull(self, number: int) -> dict:
        return next(p for p in self.pulls if p["number"] == number)

    def merge(self, number: int) -> str:
        """A person merges the pull request; CI starts on the merge commit (queued)."""
        pull = self.pull(number)
        files = dict(self.commits[self.branches[pull["head"]]]["files"])
        sha = self.commit(self.branches[self.base], files, f"Merge #{number}", "human")
        self.branches[self.base] = sha
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        pull.update(state="merged", merge_commit_sha=sha, merged_at=now)
        self.builds.append({"id": 5000 + len(self.builds), "sha": sha, "status": "queued"})
        return sha

    def close(self, number: int) -> None:
        self.pull(number)["state"] = "closed"

    def lock(self, number: int) -> None:
        """GitLab is merging it right now (its MR state ``locked``)."""
        self.pull(number)["state"] = "locked"

    def finish_build(self, sha: str, ok: bool = True) -> None:
        for build in self.builds:
            if build["sha"] == sha:
                build["status"] = "success" if ok else "failure"


def _json(data, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json")


def _error(status: int, message: str) -> Response:
    return _json({"message": message}, status)


@dataclass
class Fault:
    """One endpoint answering otherwise: ``replace`` (``status``, ``headers``, ``body``
    instead of the real answer), ``after`` (the real handler runs, its side effects
    happen, then this answer), ``patch`` (the real JSON with ``body``'s fields set; in a
    list, in each item)."""

    method: str
    path: str
    """A regular expression matched against the whole path after the project prefix."""
    mode: str = "replace"
    status: int = 200
    headers: dict = field(default_factory=dict)
    body: Any = None
    times: int | None = None
    """How many requests it answers (None: all)."""

    def matches(self, method: str, path: str) -> bool:
        live = self.times is None or self.times > 0
        return live and method == self.method and re.fullmatch(self.path, path) is not None

    def answer(self, real) -> Response:
        if self.times is not None:
            self.times -= 1
        if self.mode == "patch":
            response = real()
            data = json.loads(response.get_data(as_text=True))
            for item in data if isinstance(data, list) else [data]:
                item.update(self.body)
            return Response(
                json.dumps(data), status=response.status_code, content_type="application/json"
            )
        if self.mode == "after":
            real()
        body = self.body
        if isinstance(body, bytes | str):
            kind = self.headers.get("Content-Type", "text/html; charset=utf-8")
            return Response(body, status=self.status, headers=self.headers, content_type=kind)
        return Response(
            json.dumps(body) if body is not None else b"",
            status=self.status,
            headers=self.headers,
            content_type="application/json",
        )


class _Faulty:
    """The fault list both fakes share."""

    faults: list[Fault]

    def fault(self, method: str, path: str, **how) -> Fault:
        made = Fault(method, path, **how)
        self.faults.append(made)
        return made

    def _faulted(self, request: Request, path: str, real) -> Response:
        for fault in self.faults:
            if fault.matches(request.method, path):
                return fault.answer(real)
        return real()


class FakeGitHub(_Faulty):
    """``/repos/{owner}/{repo}/...`` of one repository."""

    def __init__(self, httpserver, repo: Repo, full_name: str = "acme/my-app") -> None:
        self.faults = []
        self.repo = repo
        self.full_name = full_name
        self.owner = full_name.split("/")[0]
        self.url = httpserver.url_for("").rstrip("/")
        httpserver.expect_request(re.compile(r"^/repos/.*")).respond_with_handler(self.handle)

    def _pull_json(self, pull: dict) -> dict:
        merged = pull["state"] == "merged"
        return {
            "number": pull["number"],
            "html_url": f"{self.url}/{self.full_name}/pull/{pull['number']}",
            "state": "open" if pull["state"] in ("open", "locked") else "closed",
            "merged": merged,
            "merged_at": pull.get("merged_at") if merged else None,
            "merge_commit_sha": pull.get("merge_commit_sha") if merged else None,
            "title": pull["title"],
            "body": pull["body"],
            "head": {"ref": pull["head"], "sha": self.repo.branches.get(pull["head"], "")},
            "base": {"ref": pull["base"]},
        }

    def _run_json(self, build: dict) -> dict:
        done = build["status"] in ("success", "failure")
        return {
            "id": build["id"],
            "head_sha": build["sha"],
            "head_branch": self.repo.base,
            "event": "push",
            "status": "completed" if done else "queued",
            "conclusion": build["status"] if done else None,
            "html_url": f"{self.url}/{self.full_name}/actions/runs/{build['id']}",
        }

    def handle(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {GITHUB_TOKEN}":
            return _error(401, "Bad credentials")
        prefix = f"/repos/{self.full_name}/"
        if not request.path.startswith(prefix):
            return _error(404, "Not Found")
        path = request.path[len(prefix) :]
        return self._faulted(request, path, lambda: self._handle(request, path))

    def _handle(self, request: Request, path: str) -> Response:
        method, repo = request.method, self.repo
        body = request.get_json(silent=True) or {}
        if path.startswith("contents/"):
            return self._contents(request, path.removeprefix("contents/"), body)
        if path.startswith("git/ref/heads/") and method == "GET":
            sha = repo.branches.get(path.removeprefix("git/ref/heads/"))
            if sha is None:
                return _error(404, "Not Found")
            return _json({"ref": f"refs/{path[8:]}", "object": {"sha": sha, "type": "commit"}})
        if path == "git/refs" and method == "POST":
            name = str(body.get("ref", "")).removeprefix("refs/heads/")
            if name in repo.branches:
                return _error(422, "Reference already exists")
            if body.get("sha") not in repo.commits:
                return _error(422, "Object does not exist")
            repo.branches[name] = body["sha"]
            return _json({"ref": body["ref"], "object": {"sha": body["sha"]}}, 201)
        if path.startswith("git/refs/heads/") and method == "DELETE":
            if repo.branches.pop(path.removeprefix("git/refs/heads/"), None) is None:
                return _error(422, "Reference does not exist")
            return Response(status=204)
        if path == "pulls":
            return self._pulls(request, body)
        if match := re.fullmatch(r"pulls/(\d+)", path):
            pull = next((p for p in repo.pulls if p["number"] == int(match[1])), None)
            if pull is None:
                return _error(404, "Not Found")
            if method == "PATCH":
                pull.update({k: body[k] for k in ("title", "body") if k in body})
            return _json(self._pull_json(pull))
        if re.fullmatch(r"actions/(workflows/[^/]+/)?runs", path):
            sha = request.args.get("head_sha")
            runs = [self._run_json(b) for b in repo.builds if not sha or b["sha"] == sha]
            return _json({"total_count": len(runs), "workflow_runs": runs})
        if match := re.fullmatch(r"actions/runs/(\d+)", path):
            build = next((b for b in repo.builds if b["id"] == int(match[1])), None)
            return _json(self._run_json(build)) if build else _error(404, "Not Found")
        return _error(404, "Not Found")

    def _contents(self, request: Request, path: str, body: dict) -> Response:
        repo = self.repo
        if request.method == "GET":
            ref = request.args.get("ref", repo.base)
            text = repo.file(ref, path)
            if text is None:
                return _error(404, "Not Found")
            return _json(
                {
                    "type": "file",
                    "encoding": "base64",
                    "path": path,
                    "sha": blob_sha(text),
                    "content": base64.encodebytes(text.encode()).decode(),
                }
            )
        if request.method != "PUT":
            return _error(405, "Method Not Allowed")
        branch = body.get("branch", repo.base)
        if not body.get("message") or "content" not in body or branch not in repo.branches:
            return _error(422, "Invalid request.")
        current = repo.file(branch, path)
        if current is not None and body.get("sha") != blob_sha(current):
            if not body.get("sha"):
                return _error(422, '"sha" wasn\'t supplied.')
            return _error(409, f"{path} does not match {body.get('sha')}")
        text = base64.b64decode(body["content"]).decode()
        sha = repo.push(branch, path, text, body["message"], "remediator")
        return _json({"content": {"path": path, "sha": blob_sha(text)}, "commit": {"sha": sha}})

    def _pulls(self, request: Request, body: dict) -> Response:
        repo = self.repo
        if request.method == "GET":
            head = request.args.get("head", "")
            state = request.args.get("state", "open")
            found = [
                self._pull_json(p)
                for p in repo.pulls
                if (not head or f"{self.owner}:{p['head']}" == head)
                and (state == "all" or (p["state"] == "open") == (state == "open"))
            ]
            return _json(found)
        head, base = body.get("head", ""), body.get("base", "")
        if not body.get("title") or head not in repo.branches or base not in repo.branches:
            return _error(422, "Validation Failed")
        if any(p["head"] == head and p["state"] == "open" for p in repo.pulls):
            return _error(422, f"A pull request already exists for {self.owner}:{head}.")
        if repo.branches[head] == repo.branches[base]:
            return _error(422, f"No commits between {base} and {head}")
        pull = {"number": len(repo.pulls) + 1, "head": head, "base": base, "state": "open"}
        pull |= {"title": body["title"], "body": body.get("body", "")}
        repo.pulls.append(pull)
        return _json(self._pull_json(pull), 201)


class FakeGitLab(_Faulty):
    """``/api/v4/projects/42/...`` of one project."""

    def __init__(self, httpserver, repo: Repo, project_id: int = 42) -> None:
        self.faults = []
        self.repo = repo
        self.prefix = f"/api/v4/projects/{project_id}/"
        self.url = httpserver.url_for("").rstrip("/")
        httpserver.expect_request(re.compile(r"^/api/v4/.*")).respond_with_handler(self.handle)

    def _mr_json(self, pull: dict) -> dict:
        return {
            "iid": pull["number"],
            "web_url": f"{self.url}/acme/my-app/-/merge_requests/{pull['number']}",
            "state": {"open": "opened"}.get(pull["state"], pull["state"]),
            "title": pull["title"],
            "description": pull["body"],
            "source_branch": pull["head"],
            "target_branch": pull["base"],
            "sha": self.repo.branches.get(pull["head"], ""),
            "merge_commit_sha": pull.get("merge_commit_sha"),
            "merged_at": pull.get("merged_at"),
        }

    def _pipeline_json(self, build: dict) -> dict:
        status = {"queued": "pending", "success": "success", "failure": "failed"}[build["status"]]
        return {
            "id": build["id"],
            "sha": build["sha"],
            "ref": self.repo.base,
            "status": status,
            "web_url": f"{self.url}/acme/my-app/-/pipelines/{build['id']}",
        }

    def handle(self, request: Request) -> Response:
        if request.headers.get("PRIVATE-TOKEN") != GITLAB_TOKEN:
            return _error(401, "401 Unauthorized")
        if not request.path.startswith(self.prefix):
            return _error(404, "404 Project Not Found")
        path = request.path[len(self.prefix) :]
        return self._faulted(request, path, lambda: self._handle(request, path))

    def _handle(self, request: Request, path: str) -> Response:
        method, repo = request.method, self.repo
        body = request.get_json(silent=True) or {}
        if path.startswith("repository/files/") and method == "GET":
            file_path, ref = path.removeprefix("repository/files/"), request.args.get("ref", "")
            text = repo.file(ref, file_path) if ref in repo.branches else None
            if text is None:
                return _error(404, "404 File Not Found")
            return _json(
                {
                    "file_path": file_path,
                    "ref": ref,
                    "encoding": "base64",
                    "content": base64.b64encode(text.encode()).decode(),
                    "blob_id": blob_sha(text),
                    "commit_id": repo.branches[ref],
                    "last_commit_id": repo.last_commit_of(ref, file_path),
                }
            )
        if path.startswith("repository/branches/"):
            name = path.removeprefix("repository/branches/")
            if name not in repo.branches:
                return _error(404, "404 Branch Not Found")
            if method == "DELETE":
                del repo.branches[name]
                return Response(status=204)
            return _json({"name": name, "commit": {"id": repo.branches[name]}})
        if path == "repository/branches" and method == "POST":
            name, ref = body.get("branch", ""), body.get("ref", "")
            if name in repo.branches:
                return _error(400, "Branch already exists")
            if ref not in repo.branches:
                return _error(400, "Invalid reference name")
            repo.branches[name] = repo.branches[ref]
            return _json({"name": name, "commit": {"id": repo.branches[name]}}, 201)
        if path == "repository/commits" and method == "POST":
            return self._commit(body)
        if path == "merge_requests":
            return self._merge_requests(request, body)
        if match := re.fullmatch(r"merge_requests/(\d+)", path):
            pull = next((p for p in repo.pulls if p["number"] == int(match[1])), None)
            if pull is None:
                return _error(404, "404 Not found")
            if method == "PUT":
                pull.update(title=body.get("title", pull["title"]))
                pull.update(body=body.get("description", pull["body"]))
            return _json(self._mr_json(pull))
        if path == "pipelines":
            sha = request.args.get("sha")
            found = [self._pipeline_json(b) for b in repo.builds if not sha or b["sha"] == sha]
            return _json(sorted(found, key=lambda p: -p["id"]))
        if match := re.fullmatch(r"pipelines/(\d+)", path):
            build = next((b for b in repo.builds if b["id"] == int(match[1])), None)
            return _json(self._pipeline_json(build)) if build else _error(404, "404 Not found")
        return _error(404, "404 Not Found")

    def _commit(self, body: dict) -> Response:
        repo = self.repo
        branch, actions = body.get("branch", ""), body.get("actions") or []
        if branch not in repo.branches or not body.get("commit_message") or len(actions) != 1:
            return _error(400, "branch, commit_message and actions are required")
        [act] = actions
        path = act.get("file_path", "")
        if act.get("action") != "update" or repo.file(branch, path) is None:
            return _error(400, "A file with this name doesn't exist")
        if act.get("last_commit_id") and act["last_commit_id"] != repo.last_commit_of(branch, path):
            return _error(
                400,
                "You are attempting to update a file that has changed since you started "
                "editing it.",
            )
        content = act.get("content", "")
        text = base64.b64decode(content).decode() if act.get("encoding") == "base64" else content
        sha = repo.push(branch, path, text, body["commit_message"], "remediator")
        return _json({"id": sha, "short_id": sha[:8], "message": body["commit_message"]}, 201)

    def _merge_requests(self, request: Request, body: dict) -> Response:
        repo = self.repo
        if request.method == "GET":
            state = request.args.get("state", "all")
            source = request.args.get("source_branch")
            found = [
                self._mr_json(p)
                for p in repo.pulls
                if (not source or p["head"] == source)
                and (state == "all" or {"open": "opened"}.get(p["state"], p["state"]) == state)
            ]
            return _json(found)
        head, base = body.get("source_branch", ""), body.get("target_branch", "")
        if not body.get("title") or head not in repo.branches or base not in repo.branches:
            return _error(400, "source_branch, target_branch and title are required")
        if any(p["head"] == head and p["state"] in ("open", "locked") for p in repo.pulls):
            return _error(409, f"Another open merge request already exists for {head}")
        pull = {"number": len(repo.pulls) + 1, "head": head, "base": base, "state": "open"}
        pull |= {"title": body["title"], "body": body.get("description", "")}
        repo.pulls.append(pull)
        return _json(self._mr_json(pull), 201)
