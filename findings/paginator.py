"""A paginator that never counts a whole big table.

Counting millions of rows costs a full scan on every page view. This one
counts at most CAP + 1 rows; past that the admin shows "more than CAP".
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property

CAP = 10_000


class CappedCountPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: CAP + 1].count()
