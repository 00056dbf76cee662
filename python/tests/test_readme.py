"""The README's model table is generated from the parameter catalogue (the single source of
truth for validation, the C catalogue, Python and docs); this fails if they disagree."""
import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _tool():
    spec = importlib.util.spec_from_file_location("model_table", os.path.join(ROOT, "tools", "model_table.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_model_table_matches_catalogue():
    tool = _tool()
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    assert tool.readme_block(readme) == tool.table(), \
        "README model table is stale: run python3 tools/model_table.py --write"


def test_readme_names_the_two_commands():
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    assert "make demo" in readme and "make test" in readme
    ci = open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8").read()
    assert "make test" in ci
