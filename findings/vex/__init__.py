"""Vendors' VEX statements: stored (``models``), imported (``imports``), matched to
findings (``matching``, pure; ``selectors``) and trusted or not (``trust``).

A statement is evidence beside a finding, never a change of it: no vendor statement
marks a finding fixed or changes its status (only a scan proves a fix). Policies and
admission rules may read "a trusted vendor marks it not affected"
(``vendor_not_affected``)."""
