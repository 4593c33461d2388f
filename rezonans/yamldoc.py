"""YAML documents whose validation errors point at file:line (sources file, brand cards)."""

from __future__ import annotations

from typing import Any

import yaml


def load_with_nodes(text: str, origin: str, error: type[Exception]) -> tuple[yaml.Node | None, Any]:
    """Parse YAML into data and its node tree; a syntax error raises `error` with file:line and a hint."""
    try:
        return yaml.compose(text), yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{origin}:{mark.line + 1}" if mark else origin
        raise error(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)}); check indentation and quoting") from exc


def node_line(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest YAML node found along a location such as ('sources', 3, 'url')."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
            if nxt is None:
                break
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
        line = node.start_mark.line + 1
    return line
