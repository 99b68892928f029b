"""Admission control: may this pod's images run?

``review`` reads AdmissionReview bodies and writes the answers, ``rules`` decides over
plain data (both pure); ``facts`` reads what the database knows about an image through
a cache, ``service`` ties them together for the webhook and ``admission_check``, and
``buffer`` writes audit events and inventory rows in batches off the request path.
"""
