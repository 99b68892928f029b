"""Two issuers of the same document at the same moment (a decision's on-commit issue and
beat, say): one version is stored, the other issuer answers with it."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from findings.models import Repository
from remediator.engine.models import VexDocument
from remediator.engine.vex.documents import Subject, vex_issue

pytestmark = pytest.mark.django_db(transaction=True)
STATEMENTS = [{"vulnerability": {"name": "CVE-2024-9143"}, "status": "under_investigation"}]


def test_racing_issuers_store_one_version():
    repository = Repository.objects.create(registry="registry.test", name="team/api")
    subject = Subject(repository)
    start = threading.Barrier(4)
    answers: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def issue() -> None:
        start.wait()
        try:
            document, stored = vex_issue(subject, STATEMENTS)
            answers.append((document.version, stored))
        except BaseException as exc:  # recorded: a thread's exception would be lost
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(answers) == [(1, False), (1, False), (1, False), (1, True)]
    assert VexDocument.objects.filter(subject=subject.purl).count() == 1
