"""How an API list binds its FilterSet: django-filter's backend (a 400 for a value that
is not one), keeping the bound FilterSet on the view (``view.filterset``) for what a list
needs of it besides its rows, such as the order its filters chose."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend


class ListFilterBackend(DjangoFilterBackend):
    def get_filterset(self, request, queryset, view):
        view.filterset = super().get_filterset(request, queryset, view)
        return view.filterset
