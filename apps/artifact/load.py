"""Load an artifact from a file, JSON text or dict into a validated `LoadedArtifact`, or raise `ArtifactInvalid` listing every issue.

The steps: read and parse the JSON (a parse error is one issue at `$` with its
line and column); refuse the keys retired by protocol 17 (or upgrade them
with `upgrade_legacy=True`); validate the structure with the pydantic
models; then check cross-references among the elements whose structure is
valid (all of them, or element by element when some are broken).
Every problem found is reported, not just the first. Parts the Python
runtime does not execute come back as `warnings`.

`sha256` is the hex digest of the canonical JSON of `raw`: keys sorted,
separators `,` and `:`, UTF-8, non-ASCII characters not escaped
(`canonical_json`). It does not depend on key order or whitespace.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from apps.artifact import legacy
from apps.artifact.checks import Parts, cross_reference_issues, parts_of_document
from apps.artifact.exceptions import ArtifactInvalid
from apps.artifact.issues import (
    ROOT,
    Issue,
    dedupe,
    describe,
    issues_from_validation_error,
    json_path,
)
from apps.artifact.models import Artifact
from apps.artifact.unsupported import unsupported_parts

__all__ = ["ArtifactInvalid", "Issue", "LoadedArtifact", "canonical_json", "load_artifact"]

ArtifactSource = str | Path | bytes | bytearray | dict[str, Any]


@dataclass(frozen=True, slots=True)
class LoadedArtifact:
    """A validated artifact with its raw JSON, content hash and load-time warnings."""

    artifact: Artifact
    raw: dict[str, Any]
    sha256: str
    warnings: tuple[Issue, ...]


def load_artifact(source: ArtifactSource, *, upgrade_legacy: bool = False) -> LoadedArtifact:
    """Parse, validate and cross-check an artifact; raise ArtifactInvalid with every issue.

    `source` is a path (`Path`, or a `str` that does not look like JSON text),
    JSON text (`str` starting with `{` or `[`, or `bytes`), or an already
    parsed dict (copied, never modified). With `upgrade_legacy=True` a pre-17
    artifact is converted (see `apps.artifact.legacy`) and the conversions are
    returned as warnings instead of errors.
    """
    raw = _read(source)
    issues: list[Issue] = []
    warnings: list[Issue] = []
    if legacy.is_legacy(raw):
        if upgrade_legacy:
            raw, notes = legacy.upgrade_legacy(raw)
            warnings.extend(notes)
        else:
            issues.extend(legacy.retired_key_issues(raw))
    document = {k: v for k, v in raw.items() if k not in legacy.RETIRED_KEYS}
    artifact: Artifact | None
    try:
        artifact = Artifact.model_validate(document)
    except ValidationError as error:
        artifact = None
        issues.extend(issues_from_validation_error(error, document))
    parts = Parts.of(artifact) if artifact is not None else parts_of_document(document)
    issues.extend(cross_reference_issues(parts))
    if issues or artifact is None:
        raise ArtifactInvalid(dedupe(issues))
    warnings.extend(unsupported_parts(artifact))
    digest = hashlib.sha256(canonical_json(raw)).hexdigest()
    return LoadedArtifact(artifact=artifact, raw=raw, sha256=digest, warnings=tuple(warnings))


def canonical_json(raw: Any) -> bytes:
    """The canonical JSON bytes of `raw` (sorted keys, compact, UTF-8): what `sha256` hashes."""
    text = json.dumps(
        raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def _read(source: ArtifactSource) -> dict[str, Any]:
    if isinstance(source, dict):
        try:
            # a deep copy that keeps key order (field order is meaningful)
            return _top_level(json.loads(json.dumps(source, ensure_ascii=False, allow_nan=False)))
        except (TypeError, ValueError) as error:
            raise ArtifactInvalid([Issue(ROOT, f"the artifact is not plain JSON data: {error}")])
    if isinstance(source, bytes | bytearray):
        return _parse(bytes(source))
    if isinstance(source, str) and _looks_like_json(source):
        return _parse(source)
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            data = path.read_bytes()
        except OSError as error:
            reason = error.strerror or str(error)
            raise ArtifactInvalid([Issue(ROOT, f"cannot read artifact file '{path}': {reason}")])
        return _parse(data)
    raise TypeError(f"cannot load an artifact from {type(source).__name__}")


def _looks_like_json(text: str) -> bool:
    start = text.lstrip()[:1]
    return start in ("{", "[", '"') or "\n" in text


def _parse(data: str | bytes) -> dict[str, Any]:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ArtifactInvalid(
                [Issue(ROOT, f"the artifact is not UTF-8 text (byte {error.start})")]
            )
    duplicates = _DuplicateKeys()
    try:
        parsed = json.loads(data, parse_constant=_refuse_constant, object_pairs_hook=duplicates)
    except json.JSONDecodeError as error:
        message = f"invalid JSON at line {error.lineno} column {error.colno}: {error.msg}"
        raise ArtifactInvalid([Issue(ROOT, message)])
    except ValueError as error:
        raise ArtifactInvalid([Issue(ROOT, f"invalid JSON: {error}")])
    if duplicates.found:
        raise ArtifactInvalid(duplicates.issues(parsed))
    return _top_level(parsed)


class _DuplicateKeys:
    """object_pairs_hook that builds dicts and remembers keys written twice in one object."""

    def __init__(self) -> None:
        self.found: list[tuple[dict[str, Any], str]] = []

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    self.found.append((result, key))
                seen.add(key)
        return result

    def issues(self, root: Any) -> list[Issue]:
        paths: dict[int, list[str | int]] = {}
        targets = {id(node) for node, _ in self.found}
        stack: list[tuple[Any, list[str | int]]] = [(root, [])]
        while stack and len(paths) < len(targets):
            node, path = stack.pop()
            if isinstance(node, dict):
                if id(node) in targets:
                    paths[id(node)] = path
                stack.extend((value, [*path, key]) for key, value in node.items())
            elif isinstance(node, list):
                stack.extend((value, [*path, index]) for index, value in enumerate(node))
        return [
            Issue(
                json_path([*paths.get(id(node), []), key]),
                f"duplicate key '{key}': a later value would silently replace an earlier one",
            )
            for node, key in self.found
        ]


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _top_level(parsed: Any) -> dict[str, Any]:
    if not isinstance(parsed, dict):
        raise ArtifactInvalid(
            [
                Issue(
                    ROOT,
                    f"an artifact must be a JSON object at the top level, got {describe(parsed)}",
                )
            ]
        )
    return parsed
