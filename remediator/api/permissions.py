"""Who may call an API view: one permission class, parameterised by permission names.

The same names as the dashboard's ``require_perm`` (``remediator.core.permissions``):
reading needs the view permission of what is read (the Viewer group has them all),
acting needs the approver's, raw delivery bodies also need staff status. Services
check again; this is the door, they are the lock.
"""

from __future__ import annotations

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView


class Needs(BasePermission):
    """Signed in, holding every permission in ``perms`` (and staff when ``staff``).

    Use ``Needs.of(VIEW_FINDING)`` or ``Needs.of(VIEW_DELIVERY, staff=True)``.
    """

    perms: tuple[str, ...] = ()
    staff: bool = False

    @classmethod
    def of(cls, *perms: str, staff: bool = False) -> type[Needs]:
        message = requirement_text(perms, staff=staff)
        return type("Needs", (cls,), {"perms": perms, "staff": staff, "message": message})

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if self.staff and not user.is_staff:
            return False
        return user.has_perms(self.perms)


class NotDeclared(BasePermission):
    """The default of a base view: refuses everyone until the view says what it needs."""

    message = "this endpoint declares no permission"

    def has_permission(self, request: Request, view: APIView) -> bool:
        return False


def requirement_text(perms: tuple[str, ...], *, staff: bool = False) -> str:
    """ "needs the permission findings.view_finding", for 403 bodies and the schema."""
    parts = []
    if staff:
        parts.append("staff status")
    if perms:
        word = "permission" if len(perms) == 1 else "permissions"
        parts.append(f"the {word} {', '.join(perms)}")
    return "needs " + (" and ".join(parts) or "a signed-in user")


def view_requirements(view: type[APIView]) -> str:
    """What calling ``view`` needs, as a sentence (for the OpenAPI description);
    '' for a view that checks no permission of ours (webhooks, the schema)."""
    perms: list[str] = []
    staff = False
    found = False
    for permission in getattr(view, "permission_classes", []):
        if isinstance(permission, type) and issubclass(permission, Needs):
            perms += [p for p in permission.perms if p not in perms]
            staff = staff or permission.staff
            found = True
    if not found:
        return ""
    return "Access: " + requirement_text(tuple(perms), staff=staff) + "."
