"""Reading YAML files of schedules and workflows, keeping the line of every field.

A file holds one or more documents (``---`` between them), each a mapping with ``kind:
Schedule`` or ``kind: Workflow``. Instants stay as written (the document model parses
them, with their offsets), and a key written twice in one mapping is an error rather
than YAML's silent "last one wins". Every problem names the file and the line; a set
with any problem is reported whole and applies nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tickwork.errors import InvalidManifests, SourceProblem
from tickwork.manifests.documents import KINDS, Declared

__all__ = ["SUFFIXES", "Loaded", "instant_preserving_loader", "load_path", "parse_text"]

SUFFIXES = (".yaml", ".yml")
"""The files of a directory that are read (recursively; hidden entries are skipped)."""


@dataclass(frozen=True, slots=True)
class Loaded:
    """What a path declares: ``set_name`` is its default set name (a directory's name,
    a file's stem); ``files`` are relative to the directory applied."""

    set_name: str
    documents: list[Declared]
    files: list[str]


_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML was built with it (several times faster), else Python's."""


class _Loader(_SAFE_LOADER):  # type: ignore[misc,valid-type]
    """A safe loader without the timestamp resolver: instants stay text."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _SAFE_LOADER.yaml_implicit_resolvers.items()
}


def instant_preserving_loader() -> type[yaml.SafeLoader]:
    """A safe YAML loader that leaves instants as written (the document model parses them)."""
    return _Loader


def load_path(path: Path) -> Loaded:
    """Every document under ``path`` (a file, or a directory read recursively).

    ``InvalidManifests`` lists every problem found in every file.
    """
    if path.is_dir():
        root = path
        found = sorted(
            p
            for p in path.rglob("*")
            if p.suffix in SUFFIXES
            and p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        set_name = path.resolve().name
        if not found:
            raise InvalidManifests(
                [SourceProblem(str(path), 1, "", f"holds no {' or '.join(SUFFIXES)} files")]
            )
    elif path.is_file():
        root, found, set_name = path.parent, [path], path.stem
    else:
        raise InvalidManifests([SourceProblem(str(path), 1, "", "no such file or directory")])
    documents: list[Declared] = []
    problems: list[SourceProblem] = []
    files = []
    for file in found:
        name = file.relative_to(root).as_posix()
        files.append(name)
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            problems.append(SourceProblem(name, 1, "", f"cannot be read: {reason}"))
            continue
        try:
            documents.extend(parse_text(text, name))
        except InvalidManifests as exc:
            problems.extend(exc.problems)
    if problems:
        raise InvalidManifests(problems)
    return Loaded(set_name, documents, files)


def parse_text(text: str, file: str) -> list[Declared]:
    """The documents of one file's text; ``InvalidManifests`` naming ``file`` and lines."""
    loader = _Loader(text)
    declared: list[Declared] = []
    problems: list[SourceProblem] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            data = loader.construct_document(node)
            line = node.start_mark.line + 1
            if data is None:
                continue  # an empty document, e.g. a trailing ---
            if not isinstance(data, dict):
                problems.append(
                    SourceProblem(file, line, "", "must be a mapping (kind:, name:, …)")
                )
                continue
            lines: dict[str, int] = {}
            problems.extend(_walk(node, "", lines, file))
            kind = data.pop("kind", None)
            if kind not in KINDS:
                problems.append(_kind_problem(file, lines.get("kind", line), kind))
                continue
            lines.pop("kind", None)
            declared.append(Declared(kind, data, file, line, lines))
    except yaml.YAMLError as exc:
        problems.append(_yaml_problem(file, exc))
    finally:
        loader.dispose()
    if problems:
        raise InvalidManifests(problems)
    return declared


def _yaml_problem(file: str, exc: yaml.YAMLError) -> SourceProblem:
    """Where the parser stopped, and where what it was reading began (an unclosed bracket
    is found at the end of the file, but was opened much earlier)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else 1
    message = f"is not valid YAML: {getattr(exc, 'problem', None) or str(exc).splitlines()[0]}"
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and context_mark is not None and context_mark.line + 1 != line:
        message += f" ({context} that starts on line {context_mark.line + 1})"
    return SourceProblem(file, line, "", message)


def _kind_problem(file: str, line: int, kind: object) -> SourceProblem:
    expected = " or ".join(KINDS)
    if kind is None:
        return SourceProblem(file, line, "kind", f"is missing; give kind: {expected}")
    return SourceProblem(file, line, "kind", f"is {kind!r}; give kind: {expected}")


def _walk(node: Any, path: str, lines: dict[str, int], file: str) -> list[SourceProblem]:
    """Record the line of every field under ``node``; report keys written twice."""
    problems: list[SourceProblem] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = f"{path}.{key}" if path else key
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(
                    SourceProblem(file, line, child, f"is written twice (also on line {seen[key]})")
                )
            seen[key] = line
            lines[child] = line
            problems.extend(_walk(value_node, child, lines, file))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = f"{path}[{index}]"
            lines[child] = item.start_mark.line + 1
            problems.extend(_walk(item, child, lines, file))
    return problems
