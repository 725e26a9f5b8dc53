"""Labels in the reader's language from the artifact's `translations` and `i18n` blocks.

`translations` is a list of bundles keyed by locale (`{"zh-CN": {"objects": {...},
"apps": {...}, "messages": {...}}}`); several bundles for one locale are merged. A label
missing in the chosen locale falls back to `i18n.fallbackLocale`, then to the label the
artifact declares, then to the name, so a page never shows a blank.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation.trans_real import parse_accept_lang_header

from apps.artifact.models import Artifact


def _merge(into: dict[str, Any], more: dict[str, Any]) -> None:
    for key, value in more.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def bundles_of(artifact: Artifact) -> dict[str, dict[str, Any]]:
    """Every locale's merged bundle."""
    bundles: dict[str, dict[str, Any]] = {}
    for entry in artifact.translations:
        for locale, bundle in entry.items():
            if isinstance(bundle, dict):
                _merge(bundles.setdefault(locale, {}), bundle)
    return bundles


def supported_locales(artifact: Artifact, bundles: dict[str, dict]) -> list[str]:
    i18n = artifact.i18n or {}
    declared = [str(x) for x in i18n.get("supportedLocales") or () if isinstance(x, str)]
    default = str(i18n.get("defaultLocale") or "en")
    return list(dict.fromkeys([default, *declared, *bundles]))


def choose_locale(
    wanted: str | None, accept_language: str, supported: list[str], default: str
) -> str:
    """`wanted` (the reader's explicit choice) if supported, else the best match of the
    browser's Accept-Language (exact, then by language prefix), else the default."""
    lowered = {locale.lower(): locale for locale in supported}
    if wanted and wanted.lower() in lowered:
        return lowered[wanted.lower()]
    for code, _ in parse_accept_lang_header(accept_language or "") or ():
        code = code.lower()
        if code in lowered:
            return lowered[code]
        prefix = code.split("-")[0]
        for candidate, locale in lowered.items():
            if candidate.split("-")[0] == prefix:
                return locale
    return default


class Translator:
    """Label lookups for one locale of one artifact."""

    def __init__(self, artifact: Artifact, bundles: dict[str, dict], locale: str) -> None:
        i18n = artifact.i18n or {}
        self.locale = locale
        fallback = str(i18n.get("fallbackLocale") or i18n.get("defaultLocale") or "en")
        self._chain = [bundles.get(locale, {})]
        if fallback != locale:
            self._chain.append(bundles.get(fallback, {}))

    def _find(self, *path: str) -> Any:
        for bundle in self._chain:
            node: Any = bundle
            for key in path:
                node = node.get(key) if isinstance(node, dict) else None
                if node is None:
                    break
            if node is not None:
                return node
        return None

    def _text(self, default: str, *path: str) -> str:
        found = self._find(*path)
        return found if isinstance(found, str) and found else default

    def object_label(self, name: str, default: str) -> str:
        return self._text(default, "objects", name, "label")

    def object_plural(self, name: str, default: str) -> str:
        return self._text(default, "objects", name, "pluralLabel")

    def field_label(self, object_name: str, field: str, default: str) -> str:
        return self._text(default, "objects", object_name, "fields", field, "label")

    def field_help(self, object_name: str, field: str, default: str) -> str:
        return self._text(default, "objects", object_name, "fields", field, "help")

    def option_label(self, object_name: str, field: str, value: str, default: str) -> str:
        return self._text(default, "objects", object_name, "fields", field, "options", value)

    def view_label(self, object_name: str, view: str, default: str) -> str:
        return self._text(default, "objects", object_name, "_views", view, "label")

    def section_label(self, object_name: str, section: str, default: str) -> str:
        return self._text(default, "objects", object_name, "_sections", section, "label")

    def app_label(self, app: str, default: str) -> str:
        return self._text(default, "apps", app, "label")

    def nav_label(self, app: str, item: str, default: str) -> str:
        return self._text(default, "apps", app, "navigation", item, "label")

    def action_label(self, action: str, default: str) -> str:
        return self._text(default, "actions", action, "label")

    def message(self, key: str, default: str) -> str:
        return self._text(default, "messages", key)
