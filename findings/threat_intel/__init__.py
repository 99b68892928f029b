"""Exploit intelligence: FIRST's EPSS scores and CISA's KEV catalogue.

``parse`` reads the two published formats (pure: no Django); ``store`` upserts them
into :class:`findings.models.ThreatIntel`; ``queries`` holds the expressions that
rank and filter findings by them.
"""
