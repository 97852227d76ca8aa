from pathlib import Path

import zoo
from zoo.cli import model_table

README = Path(__file__).parents[1] / "README.md"


def test_model_table_matches_the_registry():
    text = README.read_text()
    start = text.index("<!-- model-table")
    start = text.index("\n", start) + 1
    table = text[start : text.index("<!-- /model-table -->")].strip()
    assert table == model_table(zoo.list_models()), "regenerate with `zoo list --markdown`"
