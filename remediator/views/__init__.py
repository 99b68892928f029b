"""Dashboard pages of the action engine: actions, approvals, policies, audit."""
