#!/usr/bin/env python3
"""Syntax check of Swift sources with the tree-sitter Swift grammar (PyPI
tree-sitter-swift): no Swift compiler runs on the development machine, so this
is what can be checked here. It finds syntax errors, not type errors.

    check_syntax.py FILE.swift ...   # prints "swift syntax: N passed, M failed"

Two constructs that uniffi emits and that are valid Swift trip this grammar
version; they are blanked (same length, so positions stay right) before parsing:
`@_documentation(visibility: private)` and the empty closure `{ () }`.
"""

import re
import sys

import tree_sitter_swift
from tree_sitter import Language, Parser

KNOWN_GRAMMAR_GAPS = [re.compile(r"@_documentation\(visibility:\s*private\)"), re.compile(r"\{\s*\(\)\s*\}")]


def problems(source: bytes):
    text = source.decode("utf-8")
    for pattern in KNOWN_GRAMMAR_GAPS:
        text = pattern.sub(lambda m: " " * len(m.group(0)), text)
    tree = Parser(Language(tree_sitter_swift.language())).parse(text.encode("utf-8"))
    out = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            row, col = node.start_point
            out.append(f"line {row + 1}, column {col + 1}: {'missing ' + node.type if node.is_missing else 'syntax error'}")
        stack.extend(node.children)
    return sorted(set(out))


def main():
    passed = failed = 0
    for path in sys.argv[1:]:
        found = problems(open(path, "rb").read())
        if found:
            failed += 1
            print(f"FAIL {path}")
            for p in found[:10]:
                print(f"  {p}")
        else:
            passed += 1
            print(f"ok   {path}")
    print(f"swift syntax: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
