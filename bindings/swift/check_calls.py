#!/usr/bin/env python3
"""What a Swift compiler would check first, without one: every call the
hand-written Swift makes into the generated bindings uses a function, method,
initialiser or enum case that exists there, with the argument labels it
declares (parameters with a default value may be left out).

    check_calls.py GENERATED.swift HAND_WRITTEN.swift ...

A heuristic, not a type checker: only names the generated file declares are
checked (calls to Foundation, XCTest or the hand-written layer itself are not),
argument types are not, and a label list must match one declaration in order
(in a `case .name(...)` pattern labels may be left out, as Swift allows).
Prints "swift calls: N passed, M failed"; exits 1 on a mismatch.
"""

import re
import sys
from collections import defaultdict

DECL = re.compile(
    r"(?:public\s+)?(?:static\s+|convenience\s+|required\s+)*(?:func\s+(?P<func>\w+)|(?P<init>init))\s*(?:<[^>]*>)?\s*\(",
)
TYPE = re.compile(r"public\s+(?:struct|class|enum)\s+(\w+)")
CASE = re.compile(r"^\s*case\s+(\w+)\s*\(", re.M)


def balanced(text, start):
    """The text inside the parenthesis opening at text[start - 1], and its end."""
    depth, i = 1, start
    while i < len(text) and depth:
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        i += 1
    return text[start : i - 1], i


def top_level(args):
    """Splits on commas outside brackets, parentheses and strings."""
    parts, depth, current, quoted = [], 0, "", False
    for ch in args:
        if ch == '"':
            quoted = not quoted
        if not quoted:
            depth += {"(": 1, "[": 1, "<": 1, ")": -1, "]": -1, ">": -1}.get(ch, 0)
        if ch == "," and depth == 0 and not quoted:
            parts.append(current)
            current = ""
        else:
            current += ch
    return [p.strip() for p in parts + [current] if p.strip()]


def declared(generated):
    """name -> list of [(label or None, has_default)] for functions, record
    initialisers (by type name) and enum cases (by case name)."""
    sigs = defaultdict(list)
    # Initialisers belong to the nearest type declared above them.
    types = [(m.start(), m.group(1)) for m in TYPE.finditer(generated)]
    for m in DECL.finditer(generated):
        params, _ = balanced(generated, m.end())
        name = m.group("func")
        if m.group("init"):
            owner = max((t for t in types if t[0] < m.start()), default=(0, None))[1]
            if owner is None:
                continue
            name = owner
        sig = []
        for p in top_level(params):
            head = p.split(":", 1)[0].split()
            label = None if not head or head[0] == "_" else head[0]
            sig.append((label, "=" in p.split(":", 1)[-1]))
        sigs[name].append(sig)
    for m in CASE.finditer(generated):
        params, _ = balanced(generated, m.end())
        sigs[m.group(1)].append([(p.split(":", 1)[0].strip() if ":" in p else None, False) for p in top_level(params)])
    return sigs


def matches(labels, sig):
    """Whether call labels fit a declaration: in order, skipping defaulted parameters."""
    i = 0
    for label, has_default in sig:
        if i < len(labels) and labels[i] == label:
            i += 1
        elif not has_default:
            return False
    return i == len(labels)


def matches_pattern(labels, sig):
    """Whether a `case .name(...)` pattern fits an enum case: same arity, and
    a label, where the pattern gives one, equal to the declared one."""
    return len(labels) == len(sig) and all(l is None or l == d for l, (d, _) in zip(labels, sig))


def main():
    strip = lambda text: re.sub(r"//[^\n]*", "", re.sub(r"/\*.*?\*/", "", text, flags=re.S))
    sigs = declared(strip(open(sys.argv[1]).read()))
    checked = failed = 0
    for path in sys.argv[2:]:
        code = strip(open(path).read())
        for m in re.finditer(r"(?<!\w)(\w+)\s*\(", code):
            name = m.group(1)
            if name not in sigs or re.search(r"(func|init|case)\s+$", code[max(0, m.start() - 8) : m.start()]):
                continue
            args, _ = balanced(code, m.end())
            labels = []
            for a in top_level(args):
                lab = re.match(r"(\w+)\s*:(?!:)", a)
                labels.append(lab.group(1) if lab else None)
            checked += 1
            line_start = code.rfind("\n", 0, m.start()) + 1
            pattern = re.search(r"\bcase\b.*\.\s*$", code[line_start : m.start()])
            fits = matches_pattern if pattern else matches
            if not any(fits(labels, s) for s in sigs[name]):
                failed += 1
                line = code[: m.start()].count("\n") + 1
                print(f"{path}:{line}: {name}({', '.join(l or '_' for l in labels)}) matches no declaration: "
                      f"{[[l or '_' for l, _ in s] for s in sigs[name]]}")
    # Every `.name` a `case` pattern names is an enum case declared somewhere
    # (generated or hand-written): a renamed or removed variant fails here.
    cases = set()
    for path in sys.argv[1:]:
        cases |= set(re.findall(r"^\s*case\s+(\w+)", strip(open(path).read()), re.M))
    for path in sys.argv[2:]:
        for number, line in enumerate(strip(open(path).read()).splitlines(), 1):
            head = re.match(r"\s*case\s+(\..*)", line)
            if not head:
                continue
            pattern, depth = "", 0
            for ch in head.group(1):
                depth += {"(": 1, ")": -1}.get(ch, 0)
                if ch == ":" and depth == 0:
                    break
                pattern += ch
            for name in re.findall(r"(?<![\w)\]])\.(\w+)", pattern):
                checked += 1
                if name not in cases:
                    failed += 1
                    print(f"{path}:{number}: case .{name} is declared nowhere")
    print(f"swift calls: {checked - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
