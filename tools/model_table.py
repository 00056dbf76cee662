#!/usr/bin/env python3
"""Print the README's model table, generated from the library's parameter catalogue.

    python3 tools/model_table.py            # print the table
    python3 tools/model_table.py --write    # replace the table in README.md

python/tests/test_readme.py fails when README.md and the catalogue disagree.
"""
import math
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN, END = "<!-- model-table:begin -->", "<!-- model-table:end -->"


def _value(row):
    if row.kind == "bool":
        return "true" if row.default else "false"
    if row.kind == "choice":
        return f'"{row.default}"'
    x = row.default
    if math.isinf(x):
        return "+inf" if x > 0 else "-inf"
    if abs(x) >= 1e300:
        return "-DBL_MAX" if x < 0 else "DBL_MAX"
    return f"{x:g}"


def table() -> str:
    import eprop
    lines = []
    titles = {"eprop_synapse": "optimizer (common to all eprop_synapse)",
              "eprop_synapse_bsshslm_2020": "eprop_synapse_bsshslm_2020 (common properties: its optimizer and own parameters)",
              "kernel": "kernel parameters of the baseline family (Network.set_kernel)"}
    for model in eprop.models() + list(titles):
        title = titles.get(model, model)
        lines.append(f"#### `{title}`")
        lines.append("")
        recordables = eprop.model_recordables(model)
        if recordables:
            lines.append("Recordables: " + ", ".join(f"`{r}`" for r in recordables) + ".")
            lines.append("")
        rows = eprop.model_parameters(model)
        if not rows:
            lines.append("No parameters.")
            lines.append("")
            continue
        lines.append("| parameter | unit | default | valid | meaning |")
        lines.append("|---|---|---|---|---|")
        for row in rows:
            rule = row.rule.replace("|", "\\|")
            lines.append(f"| `{row.name}` | {row.unit or '–'} | {_value(row)} | {rule} | {row.doc} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def readme_block(text: str) -> str:
    match = re.search(re.escape(BEGIN) + r"\n(.*?)" + re.escape(END), text, re.S)
    return match.group(1) if match else ""


def main():
    generated = table()
    if "--write" in sys.argv:
        path = os.path.join(ROOT, "README.md")
        text = open(path, encoding="utf-8").read()
        text = re.sub(re.escape(BEGIN) + r"\n.*?" + re.escape(END), lambda m: f"{BEGIN}\n{generated}{END}", text,
                      flags=re.S)
        open(path, "w", encoding="utf-8").write(text)
    else:
        sys.stdout.write(generated)


if __name__ == "__main__":
    main()
