"""FIRST's EPSS file and CISA's KEV catalogue, downloaded (imported by findings.threat_intel)."""
