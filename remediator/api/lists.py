"""How an API list binds its FilterSet: django-filter's backend (a 400 for a value that
is not one), keeping the bound FilterSet on the view (``view.filterset``) for what a list
needs of it besides its rows, such as the order its filters chose."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend

from findings.selectors.scope import visible
from remediator.core.filtering import ListFilterSet

API_DEFAULT_SORT = "newest"


class ListFilterBackend(DjangoFilterBackend):
    def get_filterset(self, request, queryset, view):
        view.filterset = super().get_filterset(request, queryset, view)
        return view.filterset

    def filter_queryset(self, request, queryset, view):
        """What the person may see (team-scoped access; lists and details alike),
        filtered, and when the list has a ``sort``, in the order it chose (newest
        first by default): the keys the keyset pagination reads (``view.keyset_keys``)."""
        queryset = super().filter_queryset(request, visible(queryset, request.user), view)
        filterset = getattr(view, "filterset", None)
        if isinstance(filterset, ListFilterSet):
            queryset, keys = filterset.ordered(queryset, default=API_DEFAULT_SORT)
            if keys:
                view.keyset_keys = keys
        return queryset
