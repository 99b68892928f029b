"""Build targets and policies from a YAML file, applied idempotently by name.

``config_load(text, base_dir=...)`` validates the whole file and raises one
:class:`ConfigError` listing every problem with its line; ``config_apply``
creates, updates (and with ``prune`` deletes) rows, one AuditEvent each.
"""

from .apply import Change, config_apply
from .load import Config, ConfigError, config_load

__all__ = ["Change", "Config", "ConfigError", "config_apply", "config_load"]
