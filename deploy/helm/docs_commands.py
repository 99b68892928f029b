"""The `helm install` commands a documentation page shows, for test.sh to run.

python docs_commands.py docs/kubernetes.md

Prints one line per `helm install remediator deploy/helm/remediator -n remediator
--create-namespace ...` command found in the page's code blocks (continuation lines
joined): its remaining flags, shell-quoted. A command for another release name, chart
or namespace is an error, so that what the page shows is what test.sh renders.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

PREFIX = ["helm", "install", "remediator", "deploy/helm/remediator"]
NAMESPACE = ["-n", "remediator", "--create-namespace"]


def commands(text: str) -> list[list[str]]:
    found, in_code = [], False
    lines = iter(text.splitlines())
    for line in lines:
        if line.startswith("```"):
            in_code = not in_code
            continue
        if not in_code or not line.startswith("helm install"):
            continue
        while line.endswith("\\"):
            line = line[:-1] + " " + next(lines).strip()
        found.append(shlex.split(line, comments=True))
    return found


def main(page: str) -> int:
    found = commands(Path(page).read_text())
    if not found:
        print(f"{page}: no helm install command", file=sys.stderr)
        return 1
    for words in found:
        if words[:4] != PREFIX or words[4:7] != NAMESPACE:
            print(f"{page}: not `{shlex.join(PREFIX + NAMESPACE)} ...`", file=sys.stderr)
            return 1
        print(shlex.join(words[7:]))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
