"""OpenVEX's five justifications for "not affected", with the labels and help people
choose them by. The values are the OpenVEX specification's (v0.2.0, "Status
Justifications"); the false-positive decision may carry one. Pure: no Django."""

from __future__ import annotations

JUSTIFICATIONS: dict[str, tuple[str, str]] = {
    "component_not_present": (
        "Component not present",
        "The vulnerable component is not in the image (the scanner matched something else).",
    ),
    "vulnerable_code_not_present": (
        "Vulnerable code not present",
        "The component is there, but not the vulnerable code (e.g. removed at build time).",
    ),
    "vulnerable_code_not_in_execute_path": (
        "Vulnerable code not in execute path",
        "The vulnerable code is present but never executed.",
    ),
    "vulnerable_code_cannot_be_controlled_by_adversary": (
        "Vulnerable code cannot be controlled by an adversary",
        "The vulnerable code runs, but an attacker cannot reach or steer it.",
    ),
    "inline_mitigations_already_exist": (
        "Inline mitigations already exist",
        "Built-in protections prevent exploitation.",
    ),
}
"""Justification value -> (label, help)."""

JUSTIFICATION_CHOICES = [(value, label) for value, (label, _) in JUSTIFICATIONS.items()]
