"""The Kubernetes API: every pod of a cluster, read page by page with a service account's
token (``access.py`` says where the API is and how to authenticate, ``pods.py`` lists)."""
