"""One way in: every report, whichever way it arrives, is received once, here.

``delivery_receive`` (``receive.py``) serves the webhook view, ``manage.py ingest``, the
spool replay and the reports fetched from Harbor alike: the raw body is stored as a
``Delivery`` (``store.py``; the model is a row of the ``findings`` app, this package is its
only writer), recognised (format and image, ``recognise.py``), then processed here and now
or queued for a worker (``queue.py``, ``tasks.py``); ``delivery_process`` is the one
processing path, which hands the parsed report to ``findings.ingest`` (``store.py``).
Vendors' VEX documents (source ``vex``) are checked and imported by ``vex.py`` into
``findings.vex``. Harbor's events live in ``harbor.py``; bodies the database cannot take
wait in the spool (``spool*.py``). Layers: imports ``remediator.integrations`` and
``findings``; imported by the engine, the API and the dashboard.
"""
