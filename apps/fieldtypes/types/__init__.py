"""The 49 protocol-17 field types, one module each; importing this package registers them all.

Family modules (`_text`, `_number`, ...) hold the shared behaviour. A new type is a
new module here plus its name in TYPE_MODULES.
"""

from importlib import import_module

TYPE_MODULES = (
    # text
    "text", "textarea", "email", "url", "phone", "password", "secret",
    "markdown", "html", "richtext", "code", "color", "signature", "qrcode",
    # numbers
    "number", "currency", "percent", "rating", "slider", "progress",
    # date and time
    "date", "datetime", "time",
    # logic and choices
    "boolean", "toggle", "select", "multiselect", "radio", "checkboxes", "tags",
    # relations
    "lookup", "master_detail", "tree", "user",
    # media
    "image", "file", "avatar", "video", "audio",
    # computed
    "formula", "summary", "autonumber",
    # structured
    "composite", "repeater", "record", "location", "address", "json", "vector",
)  # fmt: skip

for _module in TYPE_MODULES:
    import_module(f"{__name__}.{_module}")
