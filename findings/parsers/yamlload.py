"""Decode a YAML body (Trivy Operator resources from ``kubectl get -o yaml``) safely.

PyYAML's safe loader, with two changes: aliases are refused (a few hundred bytes
of nested aliases expand to billions of nodes for whoever walks the result), and
timestamps stay text (as JSON would give them). Several ``---`` documents become
a list of them.
"""

from __future__ import annotations

import yaml

from .base import ParseError

_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _Loader(yaml.SafeLoader):
    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise ParseError(
                f"not YAML we accept: an alias at line {mark.line + 1} column {mark.column + 1}"
            )
        return super().compose_node(parent, index)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(data: bytes) -> object:
    """One document as it is; several as a list; ParseError when it is not YAML."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ParseError(f"body is not valid UTF-8 (byte {error.start})") from None
    try:
        documents = [d for d in yaml.load_all(text, Loader=_Loader) if d is not None]
    except RecursionError:
        raise ParseError("YAML nested deeper than the decoder allows") from None
    except ParseError:
        raise
    except ValueError:  # PyYAML's int() of a number past Python's digit limit
        raise ParseError("not JSON or YAML: a number past Python's digit limit") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise ParseError(f"not JSON or YAML: {problem}{where}") from None
    if not documents:
        raise ParseError("not JSON or YAML: the body holds no document")
    return documents[0] if len(documents) == 1 else documents
