"""A vendor's VEX document downloaded from its URL (imported by remediator.intake)."""
