"""Container registries, asked through the OCI distribution API which digest a tag
names now (``client.tag_digest``), with the credentials of ``REGISTRY_AUTH_FILE``."""
