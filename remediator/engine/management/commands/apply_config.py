"""``manage.py apply_config FILE.yaml [--dry-run] [--prune]``: config as code."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from remediator.engine.config_as_code import ConfigError, config_apply, config_load


class Command(BaseCommand):
    help = "Create or update build targets and policies from a YAML file (by name)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would change; save nothing."
        )
        parser.add_argument(
            "--prune", action="store_true", help="Delete targets and policies not in the file."
        )

    def handle(self, *args, file: Path, dry_run: bool, prune: bool, **options) -> None:
        try:
            text = file.read_text()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from exc
        try:
            config = config_load(text, base_dir=file.resolve().parent, source=file.name)
        except ConfigError as exc:
            raise CommandError(f"{file} is not valid:\n" + "\n".join(exc.problems)) from exc
        for warning in config.warnings:  # old key names: applied, and said so
            self.stderr.write(f"warning: {warning}")
        changes = config_apply(config=config, dry_run=dry_run, prune=prune, source=file.name)
        for change in changes:
            if change.verb != "unchanged" or options["verbosity"] > 1:
                self.stdout.write(change.describe(dry_run=dry_run))
        counts = Counter(change.verb for change in changes)
        summary = ", ".join(
            f"{verb} {counts[verb]}"
            for verb in ("created", "updated", "unchanged", "deleted")
            if verb != "deleted" or prune
        )
        self.stdout.write(("dry run, nothing saved: " if dry_run else "") + summary)
