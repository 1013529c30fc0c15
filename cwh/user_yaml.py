"""YAML that people write (inventories, waiver files): read safely, whatever it holds.

PyYAML's SafeLoader is safe against code execution, not against everything a file can hold:
- an alias bomb ("billion laughs") composes into a few nodes that expand to billions of values
  once any code walks them (memory grows until the process is killed);
- an alias inside its own anchor makes a structure that contains itself;
- an unquoted `2026-02-30` matches YAML's timestamp pattern and then makes the timestamp
  constructor raise ValueError (not a YAMLError), which escaped as a traceback;
- deep nesting exhausts Python's recursion limit in the composer.

`load_user_yaml` turns each of these into one line (ConfigError) before anything is built from
the document, and keeps an impossible date as the text it is, so the field that needs a date
names itself ("expires must be a date (YYYY-MM-DD), got '2026-02-30'").
"""

from __future__ import annotations

from typing import Any

import yaml

from cwh.errors import ConfigError

# Aliases may make a document at most this many times larger than it is written (plus a fixed
# allowance), which keeps `<<: *defaults` merge keys usable in large inventories and stops bombs.
MAX_ALIAS_GROWTH = 10
ALIAS_ALLOWANCE = 10_000


class UserYamlLoader(yaml.SafeLoader):
    """SafeLoader that bounds alias expansion and never raises anything but YAMLError or
    ConfigError while constructing."""

    def compose_document(self) -> yaml.Node:
        node = super().compose_document()
        _check_expansion(node)
        return node

    def construct_yaml_timestamp(self, node: yaml.Node) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            return self.construct_scalar(node)  # not a real date: the text the user wrote


UserYamlLoader.add_constructor("tag:yaml.org,2002:timestamp",
                               UserYamlLoader.construct_yaml_timestamp)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def expanded_sizes(root: yaml.Node) -> dict[int, int]:
    """Each distinct node's size once every alias is expanded (id(node) -> values), computed
    over the composed graph without expanding it. ConfigError when a node contains itself."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:  # iterative: a deep document must not exhaust the recursion limit here
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise ConfigError(f"line {node.start_mark.line + 1}: a YAML alias refers to a node "
                              "that contains it (a structure without end); refused")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    return sizes


def _where(root: yaml.Node, sizes: dict[int, int], limit: int) -> str:
    """Where the expansion is: the key path down to the value that holds most of it, e.g.
    `line N (all > children > lab > hosts > sc01 > cwh_approved_admins)`; a list entry that is
    a mapping by its position (`waivers > 1 > hosts`)."""
    path: list[str] = []
    node = root
    while len(path) < 12:
        if isinstance(node, yaml.MappingNode) and node.value:
            key, child = max(node.value, key=lambda pair: sizes[id(pair[1])])
            label = str(key.value)[:60] if isinstance(key, yaml.ScalarNode) else "?"
        elif isinstance(node, yaml.SequenceNode) and node.value:
            # into a list only to reach an entry with fields (a waiver), not a bomb's levels
            index, child = max(enumerate(node.value, start=1), key=lambda x: sizes[id(x[1])])
            if not isinstance(child, yaml.MappingNode):
                break
            label = str(index)
        else:
            break
        if sizes[id(child)] <= limit // 2:
            break
        path.append(label)
        node = child
    where = " > ".join(path) or "the document"
    return f"line {node.start_mark.line + 1} ({where})"


def _check_expansion(root: yaml.Node | None) -> None:
    if root is None:
        return
    sizes = expanded_sizes(root)
    written, expanded = len(sizes), sizes[id(root)]
    limit = MAX_ALIAS_GROWTH * written + ALIAS_ALLOWANCE
    if expanded > limit:
        raise ConfigError(f"{_where(root, sizes, limit)}: YAML aliases expand {written} written "
                          f"values to {expanded} (an alias bomb?); refused before reading it")


def _problem(exc: yaml.YAMLError) -> str:
    """What PyYAML says is wrong, without the quoted snippet of the file (which can hold a
    password)."""
    if isinstance(exc, yaml.reader.ReaderError):
        return f"character {exc.position + 1}: not valid YAML ({exc.reason})"
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f"line {mark.line + 1}: " if mark else ""
    # PyYAML's context and problem are fixed phrases (plus a tag, alias or character at most).
    said = [text for text in (getattr(exc, "context", None), getattr(exc, "problem", None))
            if text]
    return f"{where}not valid YAML ({', '.join(said) or type(exc).__name__})"


def load_user_yaml(text: str, loader: type[UserYamlLoader] = UserYamlLoader) -> Any:
    """The document in `text`; ConfigError (one line, no file content) on any problem."""
    try:
        return yaml.load(text, Loader=loader)  # a SafeLoader subclass
    except ConfigError:
        raise
    except yaml.YAMLError as exc:
        raise ConfigError(_problem(exc)) from None
    except RecursionError:
        raise ConfigError("nested too deeply to read") from None
