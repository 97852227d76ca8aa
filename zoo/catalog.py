"""The registry with the zoo's own entries in it: where `zoo.get`, `zoo.spec`, the commands
and the recipes look names up.

`zoo.registry` is a leaf that holds whatever was registered; importing `zoo.models` registers
the built-in families' entries (plain Python: no Keras starts until a model is built).
"""

from __future__ import annotations

from collections.abc import Sequence

from zoo import models  # noqa: F401  (registers the built-in entries)
from zoo.registry import ModelSpec, get, list_models, register, spec


def as_spec(model: ModelSpec | str) -> ModelSpec:
    """`model` itself, or the spec registered under the name `model`.

    Commands resolve a name once, here, and hand the `ModelSpec` on."""
    return model if isinstance(model, ModelSpec) else spec(model)


def markdown_table(names: Sequence[str]) -> str:
    """The registry as a Markdown table (the README's model table is this output)."""
    rows = [
        "| model | task | attention | baseline twin | paper | default data | recipe |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in names:
        s = spec(name)
        twin = f"`{s.twin}`" if s.twin else "-"
        rows.append(
            f"| `{name}` | {s.task} | {s.attention} | {twin} | {s.paper} | `{s.default_data}` "
            f"| [{s.recipe}]({s.recipe}) |"
        )
    return "\n".join(rows)


__all__ = ["ModelSpec", "as_spec", "get", "list_models", "markdown_table", "register", "spec"]
