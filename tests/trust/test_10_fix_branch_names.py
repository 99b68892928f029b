"""Fix branch names are injective and valid: a readable slug plus a hash of the exact
(registry, repository, tag), accepted by the real ``git check-ref-format --branch``; a
pull request opened under the old naming keeps its branch."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from remediator.engine.models import FixPullRequest
from remediator.engine.services import action_dispatch
from remediator.engine.services.pull_request import fix_branch, pull_request_push

from ._fixpr_support import (  # noqa: F401 (fixtures)
    BRANCH,
    approved,
    fixpr_settings_fixture,
    host,
    people_fixture,
)


def git_accepts(branch: str) -> bool:
    """``git check-ref-format --branch`` prints the name back when it is a valid branch."""
    done = subprocess.run(
        ["git", "check-ref-format", "--branch", branch], capture_output=True, text=True
    )
    return done.returncode == 0 and done.stdout.strip() == branch


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (("r.example", "app", "v2-beta"), ("r.example", "app-v2", "beta")),
        (("r.example", "app", "x" * 300), ("r.example", "app", "x" * 299)),
        (("r.example", "app", "v1.0-ünï"), ("r.example", "app", "v1.0-uni")),
        (("r.example", "app", "日本"), ("r.example", "app", "中国")),
        (("r.example", "team/app", "1"), ("r.example", "team-app", "1")),
        (("a.example", "app", "1"), ("b.example", "app", "1")),
        (("r.example", "app", ""), ("r.example", "app", "latest")),
    ],
)
def test_images_a_slug_would_merge_get_different_branches(one, other):
    assert fix_branch(*one) != fix_branch(*other)
    assert git_accepts(fix_branch(*one)) and git_accepts(fix_branch(*other))


@pytest.mark.parametrize(
    "tag",
    ["x.lock", "a..b", ".hidden", "-dash", "end.", "@{u}", "@", "a\\b", "a b", "~^:?*[",
     "trailing/", "/lead", "a//b", "HEAD", "a\x00b", "\x7f", "a.lock/b"],
)  # fmt: skip
def test_names_git_refuses_as_refs_still_give_a_valid_branch(tag):
    branch = fix_branch("registry.example.com", "acme/api", tag)
    assert git_accepts(branch), branch
    assert branch.startswith("remediator/fix-acme-api-")


def test_the_branch_is_readable_and_short():
    assert fix_branch("registry.example.com", "acme/api", "1.4") == (
        "remediator/fix-acme-api-1.4-" + BRANCH.rsplit("-", 1)[1]
    )
    assert len(fix_branch("r", "a" * 255, "t" * 128)) <= len("remediator/fix-") + 60 + 17


@settings(max_examples=150, deadline=None)
@given(
    triples=st.lists(
        st.tuples(st.text(max_size=20), st.text(max_size=40), st.text(max_size=30)),
        min_size=2,
        max_size=6,
        unique=True,
    )
)
def test_generated_images_give_distinct_branches_git_accepts(triples):
    branches = [fix_branch(*triple) for triple in triples]
    assert len(set(branches)) == len(triples)
    for branch in branches:
        assert git_accepts(branch), branch


@pytest.mark.django_db
def test_an_open_pull_request_keeps_the_branch_it_was_opened_on(people, httpserver, monkeypatch):
    setup = host("github", httpserver, monkeypatch)
    action = action_dispatch(action_id=approved(people).pk)
    old = "remediator/fix-acme-api-1.4"  # the naming before the hash was added
    setup.repo.branches[old] = setup.repo.branches.pop(BRANCH)
    setup.repo.pulls[0]["head"] = old
    FixPullRequest.objects.filter(action=action).update(branch=old)
    head = setup.repo.branches[old]

    action.findings.update(fixed_version="3.3.3-r0")  # a newer fix: pushed to the same PR
    pull_request_push(action=action, may_open=False)

    assert FixPullRequest.objects.get(action=action).branch == old
    assert setup.repo.commits[setup.repo.branches[old]]["parent"] == head
    assert BRANCH not in setup.repo.branches and len(setup.repo.pulls) == 1
