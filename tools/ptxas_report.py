#!/usr/bin/env python3
"""Registers, spills and shared memory of every kernel, from a build log made with
-DGP_PTXAS_VERBOSE=ON (nvcc -Xptxas -v), as one Markdown table.

  tools/ptxas_report.py build/build.log
"""
import re
import subprocess
import sys


def demangle(names):
    try:
        out = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True, check=True).stdout
        return out.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return names


def short(name):
    """'void gp_cuda::(anonymous namespace)::conv_kernel<3, ...Gather, ...>(args)' -> 'conv_kernel<3, Gather, ...>'."""
    name = name.replace("gp_cuda::", "").replace("(anonymous namespace)::", "")
    name = re.sub(r"^void ", "", name)
    depth, cut = 0, len(name)
    for i, ch in enumerate(name):  # drop the parameter list
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif ch == "(" and depth == 0:
            cut = i
            break
    return name[:cut]


def main(path):
    rows, entry, arch = {}, None, None
    for line in open(path, errors="replace"):
        m = re.search(r"Compiling entry function '(\S+)' for '(sm_\d+)'", line)
        if m:
            entry, arch = m.group(1), m.group(2)
            rows.setdefault(entry, {})[arch] = {}
            continue
        if entry is None:
            continue
        m = re.search(r"(\d+) bytes spill stores, (\d+) bytes spill loads", line)
        if m:
            rows[entry][arch]["spill"] = f"{m.group(1)}/{m.group(2)}"
        m = re.search(r"Used (\d+) registers(?:.*?(\d+) bytes smem)?", line)
        if m:
            rows[entry][arch]["regs"] = m.group(1)
            rows[entry][arch]["smem"] = m.group(2) or "0"
    names = sorted(rows)
    archs = sorted({a for r in rows.values() for a in r})
    print("| kernel | " + " | ".join(f"{a} regs / spill st/ld / static smem" for a in archs) + " |")
    print("|---|" + "---|" * len(archs))
    for mangled, readable in zip(names, demangle(names)):
        cells = []
        for a in archs:
            r = rows[mangled].get(a, {})
            cells.append(f"{r.get('regs', '-')} / {r.get('spill', '-')} / {r.get('smem', '-')}")
        print(f"| `{short(readable)}` | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "build/build.log")
