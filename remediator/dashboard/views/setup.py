"""The go-live checklist page: what is configured, what is missing, and how to fix it.

Visible to staff and to the security roles (who may see the Policies page); it names
secrets and says "set" or "not set", never a value. Reachability of the CI systems and
Aqua comes from a worker's stored check: the page never waits on a network call.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from remediator.core import permissions
from remediator.engine.checklist import setup_checklist
from remediator.engine.checklist.pings import (
    setup_pings_enqueue,
    setup_pings_queued,
    setup_pings_read,
    setup_pings_stale,
)
from remediator.engine.checklist.summary import setup_to_do_store


def may_see_setup(user) -> bool:
    return user.is_authenticated and (user.is_staff or user.has_perm(permissions.VIEW_POLICY))


@login_required
def setup_page(request: HttpRequest) -> HttpResponse:
    if not may_see_setup(request.user):
        raise PermissionDenied
    pings = setup_pings_read()
    checking = setup_pings_queued()
    if setup_pings_stale(pings) and not checking:
        checking = setup_pings_enqueue()
    checklist = setup_checklist(serving=request.build_absolute_uri("/"), pings=pings)
    setup_to_do_store(checklist)  # the overview's banner follows what this page shows
    return render(
        request,
        "remediator/setup.html",
        {"checklist": checklist, "pings": pings, "checking": checking},
    )
