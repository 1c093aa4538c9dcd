#!/usr/bin/env python3
"""Generates docs/crd-reference.md from the CRD manifests in crds/ (the single source).

    scripts/gen_crd_reference.py            rewrite docs/crd-reference.md
    scripts/gen_crd_reference.py --check    exit 1 if the committed file differs from what would be generated

Every field of every kind gets one table row: type, default, validation (schema keywords and CEL rules with
their messages) and the field's description. Needs PyYAML (Debian: python3-yaml, installed by scripts/setup.sh).
"""
import argparse
import difflib
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CRD_DIR = ROOT / "crds"
OUT = ROOT / "docs" / "crd-reference.md"
# Kinds in reading order; any other CRD in crds/ follows alphabetically.
ORDER = ["Cluster", "Topic", "ConsumerGroup", "User"]


def cell(text):
    """One Markdown table cell: single line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def code(text):
    return "`" + str(text).replace("`", "'") + "`"


def scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return yaml.safe_dump(value, default_flow_style=True).strip()
    return str(value)


def type_of(schema):
    if schema.get("x-kubernetes-int-or-string"):
        return "int or string"
    t = schema.get("type")
    if t == "array":
        return "[]" + type_of(schema.get("items", {}))
    if t == "object":
        if "additionalProperties" in schema and not schema.get("properties"):
            return "map[string]" + type_of(schema["additionalProperties"])
        if schema.get("x-kubernetes-preserve-unknown-fields") and not schema.get("properties"):
            return "object (free-form)"
        return "object"
    if t == "integer" and schema.get("format"):
        return "integer (" + schema["format"] + ")"
    if t == "string" and schema.get("format"):
        return "string (" + schema["format"] + ")"
    return t or "any"


def rule_text(rule):
    """A CEL rule as users read it: its message, the rule itself, and whether it only runs on update."""
    message = rule.get("message") or rule.get("messageExpression") or "rule failed"
    kind = "on update" if "oldSelf" in rule["rule"] else "always"
    return "CEL (" + kind + "): " + code(" ".join(rule["rule"].split())) + " — " + '"' + cell(message) + '"'


def bounds(lo, hi, unit):
    if lo is None and hi is None:
        return []
    if lo is None:
        return ["at most " + str(hi) + unit]
    if hi is None:
        return ["at least " + str(lo) + unit]
    if lo == hi:
        return ["exactly " + str(lo) + unit]
    return [str(lo) + "–" + str(hi) + unit]


def validation(schema, required):
    parts = []
    if required:
        parts.append("required")
    if "enum" in schema:
        parts.append("one of " + ", ".join(code(scalar(v)) for v in schema["enum"]))
    parts += bounds(schema.get("minimum"), schema.get("maximum"), "")
    parts += bounds(schema.get("minLength"), schema.get("maxLength"), " characters")
    if "pattern" in schema:
        parts.append("pattern " + code(schema["pattern"]))
    if "maxItems" in schema:
        parts.append("at most " + str(schema["maxItems"]) + " items")
    if "maxProperties" in schema:
        parts.append("at most " + str(schema["maxProperties"]) + " keys")
    list_type = schema.get("x-kubernetes-list-type")
    if list_type == "set":
        parts.append("unique items")
    elif list_type == "map":
        parts.append("keyed by " + ", ".join(schema.get("x-kubernetes-list-map-keys", [])))
    for rule in schema.get("x-kubernetes-validations", []):
        parts.append(rule_text(rule))
    return "; ".join(parts)


def rows(schema, path, required, out):
    """Depth-first rows for schema at path (dotted; arrays as [], maps as {})."""
    if path:
        default = code(scalar(schema["default"])) if "default" in schema else ""
        out.append((path, type_of(schema), default, validation(schema, required), schema.get("description", "")))
    children = schema.get("properties", {})
    needed = set(schema.get("required", []))
    for name, child in children.items():
        rows(child, (path + "." if path else "") + name, name in needed, out)
    items = schema.get("items")
    if schema.get("type") == "array" and items and items.get("properties"):
        for name, child in items["properties"].items():
            rows(child, path + "[]." + name, name in set(items.get("required", [])), out)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict) and extra.get("properties"):
        for name, child in extra["properties"].items():
            rows(child, path + "{}." + name, name in set(extra.get("required", [])), out)


def table(schema, prefix):
    out = []
    rows(schema, prefix, False, out)
    lines = ["| Field | Type | Default | Validation | Description |", "| --- | --- | --- | --- | --- |"]
    for path, typ, default, valid, desc in out:
        lines.append("| " + " | ".join([code(path), cell(typ), default, cell(valid) if valid else "", cell(desc)]) + " |")
    return lines


def render_kind(crd):
    spec = crd["spec"]
    names = spec["names"]
    version = next(v for v in spec["versions"] if v.get("storage"))
    schema = version["schema"]["openAPIV3Schema"]
    kind = names["kind"]
    lines = ["## " + kind, ""]
    facts = [
        "API version " + code(spec["group"] + "/" + version["name"]),
        "scope " + spec["scope"],
        "plural " + code(names["plural"]),
    ]
    if names.get("shortNames"):
        facts.append("short names " + ", ".join(code(n) for n in names["shortNames"]))
    if names.get("categories"):
        facts.append("categories " + ", ".join(code(n) for n in names["categories"]))
    if "status" in version.get("subresources", {}):
        facts.append("status subresource")
    lines += ["; ".join(facts) + ". CRD " + code("crds/" + crd["_file"]) + ".", ""]
    lines += [" ".join(schema.get("description", "").split()), ""]
    rules = schema.get("x-kubernetes-validations", [])
    if rules:
        lines += ["Object rules (checked by the API server):", ""]
        for rule in rules:
            where = (" on " + code(rule["fieldPath"].lstrip("."))) if rule.get("fieldPath") else ""
            lines.append("- " + rule_text(rule) + where)
        lines.append("")
    columns = version.get("additionalPrinterColumns", [])
    if columns:
        lines += ["`kubectl get` columns:", "", "| Column | Type | Source | Description |", "| --- | --- | --- | --- |"]
        for col in columns:
            lines.append("| " + " | ".join([col["name"], col["type"], code(col["jsonPath"]),
                                             cell(col.get("description", ""))]) + " |")
        lines.append("")
    props = schema.get("properties", {})
    for part in ("spec", "status"):
        if part in props:
            lines += ["### " + kind + " " + part, ""]
            lines += table(props[part], part)
            lines.append("")
    return lines


def load_crds():
    crds = []
    for path in sorted(CRD_DIR.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
            continue
        doc["_file"] = path.name
        crds.append(doc)

    def key(crd):
        kind = crd["spec"]["names"]["kind"]
        return (ORDER.index(kind) if kind in ORDER else len(ORDER), kind)

    return sorted(crds, key=key)


def render():
    crds = load_crds()
    lines = [
        "# FerryMQ custom resources (ferrymq.io/v1alpha1)",
        "",
        "<!-- Generated by scripts/gen_crd_reference.py from crds/*.yaml; do not edit by hand. -->",
        "",
        "Every kind is namespaced, has a status subresource and belongs to the category `ferrymq`, so",
        "`kubectl get ferrymq` lists all of them. Fields marked \"CEL (on update)\" are checked against the previous",
        "version of the object: that is how immutable fields and no-shrink rules are enforced. Status fields are",
        "written by the operator only. Conditions have the standard Kubernetes shape",
        "(`type, status, reason, message, lastTransitionTime, observedGeneration`).",
        "",
        "Kinds: " + ", ".join("[" + c["spec"]["names"]["kind"] + "](#" + c["spec"]["names"]["kind"].lower() + ")"
                               for c in crds) + ".",
        "",
    ]
    for crd in crds:
        lines += render_kind(crd)
    return "\n".join(lines).rstrip("\n") + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if docs/crd-reference.md is out of date")
    args = parser.parse_args()
    text = render()
    if args.check:
        current = OUT.read_text() if OUT.exists() else ""
        if current == text:
            print("crd-reference: docs/crd-reference.md is up to date")
            return 0
        sys.stdout.writelines(difflib.unified_diff(current.splitlines(True), text.splitlines(True),
                                                   "docs/crd-reference.md (committed)", "generated", n=1))
        print("crd-reference: docs/crd-reference.md is out of date; run scripts/gen_crd_reference.py")
        return 1
    OUT.write_text(text)
    print("crd-reference: wrote " + str(OUT.relative_to(ROOT)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
