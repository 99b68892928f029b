"""OpenID Connect providers: the discovery document that names their endpoints."""
