"""Where images run: which cluster, namespace, workload and container runs which digest.

``pods.py`` reads Kubernetes objects (a pod list, a Pod, a workload's pod template; pure,
no Django), ``inventory.py`` records what runs where (admission reviews, Trivy Kubernetes
/ Trivy Operator reports, inventory pushes) and forgets what was not seen again
(``tasks.py``, beat), ``selectors.py`` holds the named reads policies, admission and the
pages use. ``manage.py inventory_import`` pushes a ``kubectl get pods -A -o json`` file.

The ``RunningImage`` model stays a row of the ``findings`` app (its table, its
``findings.*_runningimage`` permissions that roles grant, its foreign keys to Repository
and Image); this package is its only writer. Layers: imports ``findings`` and
``remediator.core``; imported by the engine, the API and the dashboard; a sibling of
``remediator.intake``, which it does not import (nor the other way round).
"""
