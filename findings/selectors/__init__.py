"""Every named read of the findings store, one module per topic.

- ``findings``: the orders a findings list may take, the rows a list and an export
  show, identifiers matched ignoring case;
- ``images``: repositories with their open counts, the riskiest, an image's page;
- ``scans``, ``deliveries``, ``vulnerabilities``: their lists and details;
- ``seen``: which scans saw which findings, a witness's live last sighting;
- ``threat_intel``: EPSS and KEV as filters and ranks, the feeds' state;
- ``trends``: open findings over time (the overview's figures);
- ``overview``: those figures as the worker stored them for the overview page.

QuerySet methods stay where Django puts them (``Finding.objects.open().fixable()``,
``findings/querysets.py``); the filters of each list are ``findings/filters.py``.
"""
