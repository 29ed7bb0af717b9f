#!/usr/bin/env python3
"""Generate docs/traceability.md from the code, or check that it is current.

    traceability.py            write docs/traceability.md
    traceability.py --check    exit 1 when the file is out of date, a check names an
                               unknown ID, or an ID that tasks implement has no check
    traceability.py --strict   with --check: also exit 1 when any requirement has no check

For each requirement ID of the catalog (roles/compliance/vars/main.yml):
  tasks      every task in roles/*/tasks and playbooks/ whose name ends with `| <IDs>`
  checks     every pytest function under molecule/ marked @pytest.mark.requirement(<ID>)
  variables  every role variable (meta/argument_specs.yml) that those tasks, or the
             templates they install, use
"""

import ast
import glob
import os
import re
import sys

import yaml

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "docs", "traceability.md")
TASK_KEYS = ("tasks", "pre_tasks", "post_tasks", "handlers", "block", "rescue", "always")
WRAPPERS = ("ansible.builtin.import_tasks", "ansible.builtin.include_tasks", "import_tasks", "include_tasks",
            "ansible.builtin.import_playbook", "import_playbook")


def catalog():
    with open(os.path.join(ROOT, "roles", "compliance", "vars", "main.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)["compliance_requirement_catalog"]


def ids_of(name, known):
    if not isinstance(name, str) or "|" not in name:
        return []
    return [t for t in name.rsplit("|", 1)[1].split() if t in known]


def leaf_tasks(items):
    for item in items or []:
        if not isinstance(item, dict):
            continue
        nested = False
        for key in TASK_KEYS:
            if isinstance(item.get(key), list):
                nested = True
                yield from leaf_tasks(item[key])
        if not nested and not any(k in item for k in WRAPPERS):
            yield item


def role_variables():
    """{role: [variable names]} from each role's argument specs."""
    found = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "roles", "*", "meta", "argument_specs.yml"))):
        role = path.split(os.sep)[-3]
        with open(path, encoding="utf-8") as handle:
            specs = yaml.safe_load(handle)["argument_specs"]
        names = set()
        for entry in specs.values():
            names.update((entry.get("options") or {}).keys())
        found[role] = sorted(names)
    return found


def tasks_and_variables(known):
    tasks, variables = {}, {}
    all_vars = role_variables()
    flat = sorted(set(v for names in all_vars.values() for v in names))
    files = sorted(glob.glob(os.path.join(ROOT, "roles", "*", "tasks", "*.yml")) + glob.glob(os.path.join(ROOT, "playbooks", "*.yml")))
    for path in files:
        rel = os.path.relpath(path, ROOT)
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or []
        plays = data if rel.startswith("playbooks") else [{"tasks": data}]
        role_dir = os.path.dirname(os.path.dirname(path)) if rel.startswith("roles") else None
        for play in plays:
            for task in leaf_tasks([play] if rel.startswith("playbooks") else play["tasks"]):
                reqs = ids_of(task.get("name"), known)
                if not reqs:
                    continue
                text = yaml.safe_dump(task)
                for module in ("ansible.builtin.template", "template"):
                    src = (task.get(module) or {}).get("src") if isinstance(task.get(module), dict) else None
                    if src and role_dir and os.path.exists(os.path.join(role_dir, "templates", src)):
                        with open(os.path.join(role_dir, "templates", src), encoding="utf-8") as handle:
                            text += handle.read()
                used = [v for v in flat if re.search(r"\b%s\b" % re.escape(v), text)]
                for req in reqs:
                    tasks.setdefault(req, set()).add("`%s`: %s" % (rel, task["name"].rsplit("|", 1)[0].strip()))
                    variables.setdefault(req, set()).update(used)
    return tasks, variables


def checks(known):
    found, unknown = {}, []
    for path in sorted(glob.glob(os.path.join(ROOT, "molecule", "**", "*.py"), recursive=True)):
        rel = os.path.relpath(path, ROOT)
        with open(path, encoding="utf-8") as handle:
            tree = ast.parse(handle.read(), rel)
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            for deco in node.decorator_list:
                if (isinstance(deco, ast.Call) and isinstance(deco.func, ast.Attribute) and deco.func.attr == "requirement"):
                    for arg in deco.args:
                        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                            if arg.value not in known:
                                unknown.append("%s::%s names unknown ID %s" % (rel, node.name, arg.value))
                            found.setdefault(arg.value, set()).add("`%s::%s`" % (rel, node.name))
    return found, unknown


def with_parts(known, proofs):
    """A requirement made of parts (TM-01 of the MS-* controls) is proven through its parts' checks."""
    merged = dict((k, set(v)) for k, v in proofs.items())
    for req, entry in known.items():
        if entry.get("part_of") and proofs.get(req):
            merged.setdefault(entry["part_of"], set()).update("%s (through %s)" % (c, req) for c in proofs[req])
    return merged


def render(known, tasks, variables, proofs):
    lines = ["# Traceability: requirement, tasks, checks, variables", "",
             "Generated from the code by `tests/harness/traceability.py`; do not edit by hand.",
             "`make lint` (through `traceability.py --check`) fails when this file is out of date,",
             "or when a requirement that tasks implement has no check.", "",
             "Tasks are those whose names end with the ID (`... | TM-05`); checks are the pytest",
             "functions marked `@pytest.mark.requirement(\"TM-05\")`; variables are the role variables",
             "(from `meta/argument_specs.yml`) those tasks, or the templates they install, use.", "",
             "| ID | requirement | tasks | checks | variables | state |", "|---|---|---|---|---|---|"]
    for req, entry in known.items():
        t, c, v = tasks.get(req, set()), proofs.get(req, set()), variables.get(req, set())
        state = "implemented and checked" if t and c else "checked, no task" if c else \
            "**implemented, NO CHECK**" if t else "open (no task, no check)"
        if entry.get("part_of"):
            state += " (part of %s)" % entry["part_of"]
        lines.append("| %s | %s | %d | %d | %d | %s |" % (req, entry["title"], len(t), len(c), len(v), state))
    for req, entry in known.items():
        lines += ["", "## %s: %s" % (req, entry["title"]), ""]
        for label, items in (("Tasks", tasks.get(req)), ("Checks", proofs.get(req)),
                             ("Variables", set("`%s`" % v for v in variables.get(req, set())))):
            lines.append("%s:" % label)
            lines += ["- %s" % i for i in sorted(items)] if items else ["- none"]
            lines.append("")
        while lines[-1] == "":
            lines.pop()
    return "\n".join(lines) + "\n"


def main(argv):
    known = catalog()
    tasks, variables = tasks_and_variables(known)
    proofs, unknown = checks(known)
    proofs = with_parts(known, proofs)
    text = render(known, tasks, variables, proofs)
    if "--check" not in argv and "--strict" not in argv:
        with open(OUT, "w", encoding="utf-8") as handle:
            handle.write(text)
        print("wrote %s" % os.path.relpath(OUT, ROOT))
        return 0
    problems = list(unknown)
    current = open(OUT, encoding="utf-8").read() if os.path.exists(OUT) else ""
    if current != text:
        problems.append("docs/traceability.md is out of date: run tests/harness/traceability.py and commit the result")
    problems += ["%s is implemented by tasks but no check proves it" % r for r in known if tasks.get(r) and not proofs.get(r)]
    open_ids = [r for r in known if not proofs.get(r)]
    if "--strict" in argv:
        problems += ["%s has no check" % r for r in open_ids]
    elif open_ids:
        print("not yet checked (no role implements them): %s" % ", ".join(open_ids))
    for problem in problems:
        print("traceability: %s" % problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
