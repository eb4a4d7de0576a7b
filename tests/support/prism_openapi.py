#!/usr/bin/env python3
"""Copy GitHub's REST description for prism, with `value: {$ref: …}` examples unwrapped.

The description writes some response examples as `value: {"$ref": "#/components/examples/x"}`
where the component itself is `{"value": {...}}`; prism would serve `{"value": {...}}` and
clients fail with `missing field id`. This resolves each such example to the component's own
value. Usage: prism_openapi.py SOURCE.json DEST.json
"""
import json
import sys


def main(src, dest):
    with open(src, encoding="utf-8") as f:
        doc = json.load(f)
    components = doc.get("components", {}).get("examples", {})
    fixed = 0
    for methods in doc.get("paths", {}).values():
        for op in methods.values():
            if not isinstance(op, dict):
                continue
            for response in op.get("responses", {}).values():
                for content in (response.get("content") or {}).values():
                    for example in (content.get("examples") or {}).values():
                        value = example.get("value") if isinstance(example, dict) else None
                        if isinstance(value, dict) and set(value) == {"$ref"}:
                            name = value["$ref"].rsplit("/", 1)[-1]
                            target = components.get(name, {})
                            if "value" in target:
                                example["value"] = target["value"]
                                fixed += 1
    with open(dest, "w", encoding="utf-8") as f:
        json.dump(doc, f)
    print(f"unwrapped {fixed} examples", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
