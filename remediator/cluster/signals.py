"""What the inventory tells the layers above it, without importing them."""

from django.dispatch import Signal

sightings_changed = Signal()
"""Sent with ``repository_ids`` (a list of ints) after the transaction that recorded
workloads running those repositories' images in a namespace, or with labels, not seen
for them before commits (the engine's ownership rules may now match)."""
