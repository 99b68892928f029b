"""FIRST's EPSS file and CISA's KEV catalogue, downloaded (the importer is findings.threat_intel)."""
