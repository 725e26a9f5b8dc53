"""The protocol-17 artifact: pydantic models, loading with every issue located, content hash, JSON Schema.

Pure Python: no database, no Django ORM, no other `apps.*` package.
"""

from apps.artifact.exceptions import ArtifactInvalid
from apps.artifact.issues import Issue
from apps.artifact.load import LoadedArtifact, canonical_json, load_artifact
from apps.artifact.models import FIELD_TYPES, Artifact, Field, Object

__all__ = [
    "FIELD_TYPES",
    "Artifact",
    "ArtifactInvalid",
    "Field",
    "Issue",
    "LoadedArtifact",
    "Object",
    "canonical_json",
    "load_artifact",
]
