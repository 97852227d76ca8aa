from pathlib import Path

import zoo
from zoo.catalog import markdown_table

README = Path(__file__).parents[1] / "README.md"


def test_model_table_matches_the_registry():
    text = README.read_text()
    start = text.index("<!-- model-table")
    start = text.index("\n", start) + 1
    table = text[start : text.index("<!-- /model-table -->")].strip()
    assert table == markdown_table(zoo.list_models()), "regenerate with `zoo list --markdown`"
