#!/usr/bin/env python3
"""Exits 0 when two manifest streams hold the same objects (same identities, equal content; document
order and formatting aside), else prints the first differences and exits 1.
Usage: same_objects.py A.yaml B.yaml"""
import sys
import yaml

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def objects(path):
    with open(path, "rb") as f:
        docs = [d for d in yaml.load_all(f, Loader=Loader) if d is not None]
    out = {}
    for d in docs:
        m = d.get("metadata", {})
        key = (d.get("apiVersion"), d.get("kind"), m.get("namespace", ""), m.get("name"))
        if key in out:
            sys.exit(f"{path}: {key} appears twice")
        out[key] = d
    return out


a, b = objects(sys.argv[1]), objects(sys.argv[2])
problems = [f"only in {sys.argv[1]}: {k}" for k in sorted(a.keys() - b.keys(), key=str)]
problems += [f"only in {sys.argv[2]}: {k}" for k in sorted(b.keys() - a.keys(), key=str)]
problems += [f"differs: {k}\n  {a[k]}\n  {b[k]}" for k in sorted(a.keys() & b.keys(), key=str) if a[k] != b[k]]
if problems:
    print("\n".join(problems[:5]), file=sys.stderr)
    print(f"{len(problems)} differences", file=sys.stderr)
    sys.exit(1)
print(f"{len(a)} objects, identical")
