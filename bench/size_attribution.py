#!/usr/bin/env python3
"""Where the snippet's Wasm bytes come from in the source, inlined code included.

twiggy names the functions that survive in the Wasm; a function inlined into many callers shows
up only as part of each. This reads the DWARF of a build with line tables
(`bash bench/size-attribution.sh` makes one) and charges every code byte to a line of the
workspace: the line the byte's own location names, or, for standard-library code inlined into
ours, the innermost call site in our code. Then it sums by source function.

    python3 bench/size_attribution.py LINES.txt INFO.txt [TOP]

LINES.txt and INFO.txt are `llvm-dwarfdump --debug-line` and `--debug-info` of the Wasm. Bytes
of standard-library functions that are not inlined into ours go to `<std>`. Sizes are of LLVM's
output, before wasm-bindgen and wasm-opt: compare builds with each other, not with twiggy.
"""
import collections
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ours(path):
    """Whether a DWARF path is a file of this workspace (not the standard library, not a crate)."""
    if not path or "rustlib" in path or "/.cargo/" in path:
        return False
    rel = os.path.relpath(path, ROOT) if os.path.isabs(path) else path
    return not rel.startswith("..") and os.path.exists(os.path.join(ROOT, rel))


def norm(path):
    return os.path.relpath(path, ROOT) if os.path.isabs(path) else path


def line_rows(text):
    """(start, end, file, line) for each run of code the line tables describe."""
    dirs, files, prev, rows = {0: ""}, {}, None, []
    lines = text.split("\n")
    for i, l in enumerate(lines):
        if l.startswith("debug_line["):
            dirs, files, prev = {0: ""}, {}, None
            continue
        m = re.match(r'include_directories\[\s*(\d+)\] = "(.*)"', l)
        if m:
            dirs[int(m.group(1))] = m.group(2)
            continue
        m = re.match(r"file_names\[\s*(\d+)\]:", l)
        if m:
            name = re.search(r'name: "(.*)"', lines[i + 1]).group(1)
            di = int(re.search(r"dir_index: (\d+)", lines[i + 2]).group(1))
            files[int(m.group(1))] = os.path.join(dirs.get(di, ""), name)
            continue
        m = re.match(r"0x([0-9a-f]+)\s+(\d+)\s+\d+\s+(\d+)\s+\d+\s+\d+\s*(.*)", l)
        if m:
            addr = int(m.group(1), 16)
            if prev is not None and addr > prev[0]:
                rows.append((prev[0], addr, prev[1], prev[2]))
            end = "end_sequence" in m.group(4)
            prev = None if end else (addr, files.get(int(m.group(3)), "?"), int(m.group(2)))
    return rows


def inlined_call_sites(text):
    """(depth, start, end, call file, call line) of every inlined subroutine called from our code."""
    out, cur = [], None

    def flush():
        if cur and cur["inlined"] and ours(cur.get("file")):
            for lo, hi in cur["ranges"]:
                out.append((cur["depth"], lo, hi, cur["file"], cur.get("line", 0)))

    for l in text.split("\n"):
        m = re.match(r"0x[0-9a-f]+:(\s+)DW_TAG_(\w+)", l)
        if m:
            flush()
            cur = {"depth": len(m.group(1)), "inlined": m.group(2) == "inlined_subroutine", "ranges": []}
            continue
        if cur is None:
            continue
        if (m := re.search(r"DW_AT_low_pc\s+\(0x([0-9a-f]+)\)", l)):
            cur["lo"] = int(m.group(1), 16)
        elif (m := re.search(r"DW_AT_high_pc\s+\(0x([0-9a-f]+)\)", l)) and "lo" in cur:
            cur["ranges"].append((cur["lo"], int(m.group(1), 16)))
        elif (m := re.match(r"\s+\[0x([0-9a-f]+), 0x([0-9a-f]+)\)", l)):
            cur["ranges"].append((int(m.group(1), 16), int(m.group(2), 16)))
        elif (m := re.search(r'DW_AT_call_file\s+\("(.*)"\)', l)):
            cur["file"] = m.group(1)
        elif (m := re.search(r"DW_AT_call_line\s+\((\d+)\)", l)):
            cur["line"] = int(m.group(1))
    flush()
    return sorted(out)


def function_of(cache, path, line):
    """The source function a line is in: the nearest `fn` above it (closures count as theirs)."""
    if path not in cache:
        try:
            src = open(os.path.join(ROOT, path), encoding="utf-8").read().split("\n")
        except OSError:
            src = []
        names, cur, impl = [], "?", ""
        for text in src:
            if (m := re.match(r"^impl(?:<[^>]*>)?\s+(?:.* for )?([\w:]+)", text)):
                impl = m.group(1)
            elif re.match(r"^(pub |fn |struct |enum |mod )", text):
                impl = ""
            if (m := re.match(r"^\s*(?:pub(?:\([^)]*\))? )?(?:const )?(?:unsafe )?fn (\w+)", text)):
                cur = f"{impl}::{m.group(1)}" if impl and text.startswith(" ") else m.group(1)
            names.append(cur)
        cache[path] = names
    names = cache[path]
    return names[line - 1] if 0 < line <= len(names) else "?"


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    rows = line_rows(open(sys.argv[1], encoding="utf-8").read())
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 40
    end = max(r[1] for r in rows)
    site = [None] * (end + 1)
    # Outer call sites first, so the innermost one in our code is what stays painted.
    for _, lo, hi, path, line in inlined_call_sites(open(sys.argv[2], encoding="utf-8").read()):
        for a in range(lo, min(hi, end + 1)):
            site[a] = (norm(path), line)
    by_line = collections.Counter()
    for lo, hi, path, line in rows:
        if ours(path):
            by_line[(norm(path), line)] += hi - lo
        else:
            for a in range(lo, hi):
                by_line[site[a] or ("<std>", 0)] += 1
    cache, by_fn, by_file = {}, collections.Counter(), collections.Counter()
    for (path, line), n in by_line.items():
        by_file[path] += n
        by_fn[(path, "" if path == "<std>" else function_of(cache, path, line))] += n
    print(f"{sum(by_line.values())} bytes of code\n\nby file:")
    for path, n in by_file.most_common(top):
        print(f"{n:8d}  {path}")
    print("\nby source function (what is inlined into it included):")
    for (path, fn), n in by_fn.most_common(top):
        print(f"{n:8d}  {path} {fn}")


if __name__ == "__main__":
    main()
