"""Every ```promql block of docs/alerts.md and docs/operations.md parses:
writes them as recording rules to DIR/docs.rules.json for `promtool check rules`.
Placeholders such as <deployed_model> are replaced by sample values.
Usage: check_docs_promql.py REPO_ROOT DIR"""

import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import contract  # noqa: E402

DOCS = ("docs/alerts.md", "docs/operations.md")


def main(root, work):
    rules, problems = [], []
    for doc in DOCS:
        path = os.path.join(root, doc)
        if not os.path.exists(path):
            problems.append("%s is missing" % doc)
            continue
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for block in re.findall(r"```promql\n(.*?)```", text, re.S):
            # One expression per line, or several lines continued by indentation.
            exprs, current = [], ""
            for line in block.split("\n"):
                code = re.sub(r"\s+#.*$", "", line) if not line.lstrip().startswith("#") else ""
                if not code.strip():
                    continue
                if line.startswith((" ", "\t")) and current:
                    current += " " + code.strip()
                else:
                    if current:
                        exprs.append(current)
                    current = code.strip()
            if current:
                exprs.append(current)
            for expr in exprs:
                expr = re.sub(r"<([a-z_]+)>", r"sample_\1", expr)
                for p in contract.unknown_names(expr):
                    problems.append("%s: %s: %s" % (doc, expr, p))
                rules.append({"record": "docs:expr_%d" % len(rules), "expr": expr})
    with open(os.path.join(work, "docs.rules.json"), "w", encoding="utf-8") as f:
        json.dump({"groups": [{"name": "docs", "rules": rules}]}, f, indent=1)
    for p in problems:
        print("FAIL:", p, file=sys.stderr)
    print("%d PromQL expressions found in %s" % (len(rules), ", ".join(DOCS)))
    return 1 if problems or not rules else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
