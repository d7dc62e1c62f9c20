#!/usr/bin/env python3
"""The SASS of the tensor-core loops: per kernel of the sm_90 cubins, the registers and, in
the innermost loop that holds the MMAs, the static instructions per MMA (issue 23).

  SASS_BIN=$(scripts/sass_env.sh)                       # cuobjdump + nvdisasm from PyPI
  tools/sass_report.py --tools "$SASS_BIN" [BUILD_DIR]  # Markdown table (the default)
  tools/sass_report.py --tools "$SASS_BIN" --json out.json --write-baseline bench/sass_baseline.json
  tools/sass_report.py --tools "$SASS_BIN" --check bench/sass_baseline.json   # exit 1 when worse
  tools/sass_report.py --tools "$SASS_BIN" --show 'Plain<half> 64x64'         # the loop's SASS

BUILD_DIR (default build) is searched for kernels/libgp_kernels_cuda.a, else for the CUDA
objects of gp_kernels_cuda (gp_kernels_cuda.dir/*.cu.o); a file may be named instead.

How the loop is found: `cuobjdump -sass -arch sm_90` gives each kernel's instructions with
their addresses and absolute branch targets. They are cut into basic blocks, the dominators
are computed, and every edge to a block that dominates its source is a back edge; its
natural loop is the header plus every block that reaches the edge's source without passing
the header (back edges to one header make one loop). The loop reported is the smallest
loop that holds an MMA. A natural loop, not the address range [target, backward branch]:
ptxas may place a loop's rarely taken blocks after its backward branch, and they still run
in every iteration that takes them. The address range is in the JSON too (span_*), and in
the table where it differs, for comparison with counts made that way.

Counting: every static instruction in the loop's blocks (NOPs included), MMA = HMMA (also
HGMMA, IMMA, DMMA, BMMA where they appear), LDSM = ldmatrix, LDGSTS = cp.async, branches =
BRA/BRX/JMP/JMX, spills = STL + LDL anywhere in the kernel (local memory: spills or local
arrays, bad either way in these kernels). Registers from `cuobjdump -res-usage`.

Standard library only, so any python3 runs it; the tools come from --tools DIR, else
$GP_SASS_TOOLS, else PATH, else /usr/local/cuda/bin.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter

ARCH = "sm_90"
MMA_FAMILIES = {"HMMA", "HGMMA", "IMMA", "IGMMA", "DMMA", "BMMA", "QGMMA", "OMMA"}
JUMP_FAMILIES = {"BRA", "BRX", "JMP", "JMX"}
STOP_FAMILIES = {"EXIT", "RET", "KILL"}  # no fall-through when not predicated
# The check's tolerance on instructions per MMA: a small change of scheduling is not a
# regression worth a red CI; a rewrite that adds instructions to the loop is.
PER_MMA_TOLERANCE = 0.02

# ---- parsing cuobjdump -sass ----------------------------------------------------------

INSTR_RE = re.compile(r"^\s*/\*([0-9a-fA-F]{4,})\*/\s+([^;]*?)\s*;")
FUNC_RE = re.compile(r"^\s*Function\s*:\s*(\S+)")
MEMBER_RE = re.compile(r"^member\s+(.*):([^:]+):\s*$")
HEX_RE = re.compile(r"0x([0-9a-fA-F]+)")


class Instr:
    __slots__ = ("addr", "pred", "opcode", "operands", "text")

    def __init__(self, addr, text):
        self.addr = addr
        self.text = text
        pred, rest = None, text
        if rest.startswith("@"):
            pred, _, rest = rest.partition(" ")
            pred = pred[1:]
            rest = rest.lstrip()
        self.pred = pred
        self.opcode, _, self.operands = rest.partition(" ")
        self.operands = self.operands.strip()

    @property
    def family(self):
        return self.opcode.split(".", 1)[0]

    def guarded(self):
        """True when a predicate may switch the instruction off (@PT is always on)."""
        return self.pred is not None and self.pred not in ("PT", "UPT")


def parse_sass(text, default_object="?"):
    """cuobjdump -sass output -> [{'mangled', 'object', 'instrs'}] in the order printed."""
    kernels, current, obj = [], None, default_object
    for line in text.splitlines():
        m = MEMBER_RE.match(line)
        if m:
            obj = os.path.basename(m.group(2))
            continue
        m = FUNC_RE.match(line)
        if m:
            current = {"mangled": m.group(1), "object": obj, "instrs": []}
            kernels.append(current)
            continue
        if current is None:
            continue
        m = INSTR_RE.match(line)
        if m:
            current["instrs"].append(Instr(int(m.group(1), 16), m.group(2).strip()))
    return kernels


def parse_res_usage(text):
    """cuobjdump -res-usage output -> {mangled: {'regs', 'stack', 'shared', 'local'}}."""
    out, name = {}, None
    for line in text.splitlines():
        m = re.match(r"^\s*Function\s+(\S+?):\s*$", line)
        if m:
            name = m.group(1)
            continue
        m = re.search(r"REG:(\d+)\s+STACK:(\d+)\s+SHARED:(\d+)\s+LOCAL:(\d+)", line)
        if m and name:
            out[name] = dict(zip(("regs", "stack", "shared", "local"), map(int, m.groups())))
            name = None
    return out


# ---- control flow ---------------------------------------------------------------------


def flow(ins):
    """(jump targets, falls through, ends the block) of one instruction."""
    fam = ins.family
    if fam in JUMP_FAMILIES:
        # BRA and JMP name their target; BRX/JMX jump through a register (a hex there is an
        # offset), so their targets are unknown and the block just ends.
        hexes = HEX_RE.findall(ins.operands) if fam in ("BRA", "JMP") else []
        targets = [int(hexes[-1], 16)] if hexes else []
        # A predicate operand (BRA P1, target), a guard or BRA.DIV (taken only when the warp
        # diverges) make the jump conditional.
        conditional = (
            ins.guarded()
            or re.match(r"^!?U?P[0-6],", ins.operands) is not None
            or ".DIV" in ins.opcode
        )
        return targets, conditional, True
    if fam in STOP_FAMILIES or ins.opcode.startswith("BPT.TRAP"):
        return [], ins.guarded(), True
    # CALL returns to the next instruction; BSSY/BSYNC/WARPSYNC/BREAK only manage convergence.
    return [], True, False


class Cfg:
    """Basic blocks of one kernel: blocks[i] = (first, last) instruction indices, succ[i]."""

    def __init__(self, instrs):
        self.instrs = instrs
        index = {ins.addr: i for i, ins in enumerate(instrs)}
        leaders = {0} if instrs else set()
        for i, ins in enumerate(instrs):
            targets, _, ends = flow(ins)
            if ends and i + 1 < len(instrs):
                leaders.add(i + 1)
            leaders.update(index[t] for t in targets if t in index)
        starts = sorted(leaders)
        self.blocks = [(s, (starts[k + 1] if k + 1 < len(starts) else len(instrs)) - 1) for k, s in enumerate(starts)]
        block_of = {s: k for k, s in enumerate(starts)}
        self.succ = []
        for k, (first, last) in enumerate(self.blocks):
            targets, falls, _ = flow(instrs[last])
            out = [block_of[index[t]] for t in targets if t in index]
            if falls and k + 1 < len(self.blocks):
                out.append(k + 1)
            self.succ.append(sorted(set(out)))
        self.pred = [[] for _ in self.blocks]
        for k, ss in enumerate(self.succ):
            for s in ss:
                self.pred[s].append(k)

    def size(self, k):
        first, last = self.blocks[k]
        return last - first + 1

    def block_instrs(self, k):
        first, last = self.blocks[k]
        return self.instrs[first : last + 1]

    def dominators(self):
        """Immediate dominators (Cooper, Harvey, Kennedy); None for unreachable blocks."""
        n = len(self.blocks)
        order, seen, stack = [], [False] * n, [(0, 0)] if n else []
        if n:
            seen[0] = True
        while stack:  # iterative post-order from the entry
            node, i = stack.pop()
            if i < len(self.succ[node]):
                stack.append((node, i + 1))
                nxt = self.succ[node][i]
                if not seen[nxt]:
                    seen[nxt] = True
                    stack.append((nxt, 0))
            else:
                order.append(node)
        rpo = order[::-1]
        pos = {b: i for i, b in enumerate(rpo)}
        idom = [None] * n
        if n:
            idom[0] = 0
        changed = True
        while changed:
            changed = False
            for b in rpo[1:]:
                new = None
                for p in self.pred[b]:
                    if idom[p] is None:
                        continue
                    if new is None:
                        new = p
                        continue
                    a, c = p, new
                    while a != c:
                        while pos[a] > pos[c]:
                            a = idom[a]
                        while pos[c] > pos[a]:
                            c = idom[c]
                    new = a
                if idom[b] != new:
                    idom[b] = new
                    changed = True
        return idom

    def loops(self):
        """Natural loops: [{'header': block, 'blocks': set, 'latches': [block]}]."""
        idom = self.dominators()

        def dominates(a, b):
            while True:
                if a == b:
                    return True
                if b == 0 or idom[b] is None:
                    return False
                b = idom[b]

        by_header = {}
        for b, ss in enumerate(self.succ):
            if idom[b] is None:
                continue
            for h in ss:
                if dominates(h, b):
                    body = by_header.setdefault(h, {"header": h, "blocks": {h}, "latches": []})
                    body["latches"].append(b)
                    work = [b]
                    while work:
                        x = work.pop()
                        if x in body["blocks"]:
                            continue
                        body["blocks"].add(x)
                        work.extend(p for p in self.pred[x] if idom[p] is not None)
        return sorted(by_header.values(), key=lambda lp: self.blocks[lp["header"]][0])


# ---- per-kernel analysis --------------------------------------------------------------


def count_ops(instrs):
    fams = Counter(ins.family for ins in instrs)
    return {
        "instructions": len(instrs),
        "mma": sum(fams[f] for f in MMA_FAMILIES),
        "ldsm": fams["LDSM"],
        "ldgsts": fams["LDGSTS"],
        "branches": sum(fams[f] for f in JUMP_FAMILIES),
        "ldg": fams["LDG"],
        "lds": fams["LDS"],
        "sts": fams["STS"],
        "bar": fams["BAR"],
        "spill_ops": fams["STL"] + fams["LDL"],
        "opcodes": dict(fams.most_common()),
    }


def mma_loop(instrs):
    """The innermost natural loop that holds an MMA, as a dict, or None (no MMA in a loop).

    'loops_with_mma' counts the innermost such loops: more than one means the compiler made
    several versions of the loop; the one reported is the one with most instructions per MMA,
    so that the check sees a regression in either.
    """
    cfg = Cfg(instrs)
    loops = cfg.loops()
    candidates = []
    for lp in loops:
        body = [ins for k in sorted(lp["blocks"]) for ins in cfg.block_instrs(k)]
        counts = count_ops(body)
        if counts["mma"]:
            candidates.append((lp, body, counts))
    if not candidates:
        return None
    # Innermost: no other MMA loop inside it (natural loops nest or are disjoint).
    innermost = [c for c in candidates if not any(o is not c and o[0]["blocks"] < c[0]["blocks"] for o in candidates)]
    lp, body, counts = max(innermost, key=lambda c: (c[2]["instructions"] / c[2]["mma"], -cfg.blocks[c[0]["header"]][0]))
    header_addr = instrs[cfg.blocks[lp["header"]][0]].addr
    latch_addr = max(instrs[cfg.blocks[b][1]].addr for b in lp["latches"])
    span = [ins for ins in instrs if header_addr <= ins.addr <= latch_addr]
    out = dict(counts)
    out.update(
        {
            "header": header_addr,
            "latch": latch_addr,
            "addresses": sorted(ins.addr for ins in body),
            "blocks": len(lp["blocks"]),
            "inner_loops": sum(1 for o in loops if o["blocks"] < lp["blocks"]),
            "loops_with_mma": len(innermost),
            "span_instructions": len(span),
            "span_mma": sum(1 for ins in span if ins.family in MMA_FAMILIES),
        }
    )
    return out


# ---- names ----------------------------------------------------------------------------


def demangle(names):
    if not names:
        return []
    try:
        out = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True, check=True).stdout
        lines = out.splitlines()
        return lines if len(lines) == len(names) else list(names)
    except (OSError, subprocess.CalledProcessError):
        return list(names)


def split_top(args):
    """'a, b<c, d>, e' -> ['a', 'b<c, d>', 'e']."""
    parts, depth, cur = [], 0, ""
    for ch in args:
        if ch in "<(":
            depth += 1
        elif ch in ">)":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur.strip())
    return parts


def key_of(demangled):
    """A stable key: the demangled name without namespaces, 'void ' and the parameter list.
    The mangled name is not stable: an anonymous namespace carries a hash of the source path."""
    name = demangled.replace("(anonymous namespace)::", "")
    name = re.sub(r"\b[A-Za-z_]\w*::", "", name)
    name = re.sub(r"^void ", "", name).strip()
    depth = 0
    for i, ch in enumerate(name):
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif ch == "(" and depth == 0:
            return name[:i].strip()
    return name


TYPE_NAMES = {"__half": "half", "__nv_bfloat16": "bf16", "float": "float"}


def label_of(key):
    """'conv3x3_mma_kernel<__half, PlainGather<__half>, TileT<64, 64, 2>, true>' -> 'Plain<half> 64x64 vector'.

    The fourth argument, where there is one, is the gather's kind: the vector gather
    (every channel count a multiple of 8) or per element; a fifth, true, the split-K
    variant ('... vector split-K')."""
    m = re.match(r"^conv3x3_mma_kernel<(.*)>$", key)
    if not m:
        return key
    args = split_top(m.group(1))
    if len(args) not in (3, 4, 5):
        return key
    t = TYPE_NAMES.get(args[0], args[0])
    gather = re.sub(r"Gather(<.*>)?$", "", args[1])
    tile = re.match(r"TileT<\s*(\d+),\s*(\d+)", args[2])
    shape = f"{tile.group(1)}x{tile.group(2)}" if tile else args[2]
    kind = {"true": " vector", "false": " per element"}.get(args[3].strip(), " " + args[3]) if len(args) >= 4 else ""
    if len(args) == 5 and args[4].strip() == "true":
        kind += " split-K"
    return f"{gather}<{t}> {shape}{kind}"


# ---- running the tools ----------------------------------------------------------------


def find_tool(name, tools_dir):
    dirs = [tools_dir] if tools_dir else []
    if os.environ.get("GP_SASS_TOOLS"):
        dirs.append(os.environ["GP_SASS_TOOLS"])
    for d in dirs:
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    p = shutil.which(name)
    if p:
        return p
    p = os.path.join("/usr/local/cuda/bin", name)
    return p if os.access(p, os.X_OK) else None


def find_inputs(path):
    """The static library of the kernels, else their CUDA objects."""
    if os.path.isfile(path):
        return [path]
    lib = os.path.join(path, "kernels", "libgp_kernels_cuda.a")
    if os.path.isfile(lib):
        return [lib]
    objs = []
    for root, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if not d.endswith("venv")]
        if os.path.basename(root) == "gp_kernels_cuda.dir":
            objs += [os.path.join(root, f) for f in files if f.endswith(".cu.o")]
    if not objs:  # any archive named like the library (another build layout)
        for root, dirs, files in os.walk(path):
            dirs[:] = [d for d in dirs if not d.endswith("venv")]
            objs += [os.path.join(root, f) for f in files if f == "libgp_kernels_cuda.a"]
    return sorted(objs)


def run_tool(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"sass_report: {' '.join(cmd)} failed:\n{r.stderr.strip()}")
    return r.stdout


def analyse(inputs, cuobjdump):
    kernels = []
    for path in inputs:
        text = run_tool([cuobjdump, "-sass", "-arch", ARCH, path])
        res = parse_res_usage(run_tool([cuobjdump, "-res-usage", "-arch", ARCH, path]))
        for k in parse_sass(text, os.path.basename(path)):
            k["res"] = res.get(k["mangled"], {})
            kernels.append(k)
    return build_report(kernels), {k["mangled"]: k["instrs"] for k in kernels}


def build_report(kernels):
    """Parsed kernels (with 'res') -> {key: row}; rows are JSON-ready."""
    rows = {}
    for k, dem in zip(kernels, demangle([k["mangled"] for k in kernels])):
        key = key_of(dem)
        if key in rows:  # one name in two objects (not expected): keep both apart
            key = f"{key} [{k['object']}]"
        all_ops = count_ops(k["instrs"])
        loop = mma_loop(k["instrs"])
        row = {
            "label": label_of(key),
            "object": k["object"],
            "mangled": k["mangled"],
            "registers": k["res"].get("regs"),
            "stack": k["res"].get("stack"),
            "local": k["res"].get("local"),
            "shared": k["res"].get("shared"),
            "instructions": all_ops["instructions"],
            "mma": all_ops["mma"],
            "spill_ops": all_ops["spill_ops"],
            "loop": None,
        }
        if loop:
            n = loop["mma"]
            row["loop"] = {
                "instructions": loop["instructions"],
                "mma": n,
                "instructions_per_mma": round(loop["instructions"] / n, 2),
                "ldsm_per_mma": round(loop["ldsm"] / n, 3),
                "ldgsts_per_mma": round(loop["ldgsts"] / n, 3),
                "ldsm": loop["ldsm"],
                "ldgsts": loop["ldgsts"],
                "branches": loop["branches"],
                "ldg": loop["ldg"],
                "lds": loop["lds"],
                "sts": loop["sts"],
                "bar": loop["bar"],
                "spill_ops": loop["spill_ops"],
                "blocks": loop["blocks"],
                "inner_loops": loop["inner_loops"],
                "loops_with_mma": loop["loops_with_mma"],
                "header": f"0x{loop['header']:x}",
                "latch": f"0x{loop['latch']:x}",
                "span_instructions": loop["span_instructions"],
                "span_mma": loop["span_mma"],
                "opcodes": loop["opcodes"],
                "_addresses": loop["addresses"],  # for --show; dropped from the JSON
            }
        rows[key] = row
    return rows


# ---- output ---------------------------------------------------------------------------


def mma_sort_key(item):
    key, row = item
    m = re.match(r"^(\w+)<(\w+)> (\d+)x(\d+)$", row["label"])
    if m:  # gather, then type, then tile
        return (0, m.group(1), m.group(2), -int(m.group(3)), -int(m.group(4)))
    return (1, key)


def fmt(x, digits=2):
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    if not n:
        return None
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def markdown(rows, only_mma=False):
    out = []
    mma_rows = sorted(((k, r) for k, r in rows.items() if r["loop"]), key=mma_sort_key)
    other = sorted((k, r) for k, r in rows.items() if not r["loop"])
    # The address range [header, backward branch] is shown only where it differs from the
    # natural loop (a block of the loop placed outside it, or another loop's inside it).
    spans = any(
        (r["loop"]["span_instructions"], r["loop"]["span_mma"]) != (r["loop"]["instructions"], r["loop"]["mma"])
        or r["loop"]["loops_with_mma"] > 1
        for _, r in mma_rows
    )
    out.append(
        "| kernel | registers | spill ops (STL+LDL) | loop instructions | MMA | instructions / MMA "
        "| LDSM / MMA | LDGSTS / MMA | branches in loop | LDG in loop |" + (" address range (instr / MMA) |" if spans else "")
    )
    out.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|" + ("--:|" if spans else ""))
    for key, r in mma_rows:
        lp = r["loop"]
        span = f" {lp['span_instructions']} / {lp['span_mma']}"
        if lp["loops_with_mma"] > 1:
            span += f" ({lp['loops_with_mma']} versions of the loop)"
        out.append(
            f"| `{r['label']}` | {fmt(r['registers'])} | {r['spill_ops']} | {lp['instructions']} | {lp['mma']} "
            f"| {fmt(lp['instructions_per_mma'], 1)} | {fmt(lp['ldsm_per_mma'])} | {fmt(lp['ldgsts_per_mma'])} "
            f"| {lp['branches']} | {lp['ldg']} |" + (f"{span} |" if spans else "")
        )
    per = [r["loop"]["instructions_per_mma"] for _, r in mma_rows]
    if per:
        out.append("")
        out.append(
            f"{len(per)} kernels with MMAs in a loop: instructions per MMA from {min(per):.1f} to {max(per):.1f}, "
            f"median {median(per):.1f}."
            + ("" if spans else " Each loop is the address range [loop start, backward branch].")
        )
    if other and not only_mma:
        out.append("")
        out.append("| kernel (no MMA in a loop) | registers | spill ops (STL+LDL) | stack | instructions |")
        out.append("|---|--:|--:|--:|--:|")
        for key, r in other:
            out.append(
                f"| `{r['label']}` | {fmt(r['registers'])} | {r['spill_ops']} | {fmt(r['stack'])} | {r['instructions']} |"
            )
    return "\n".join(out)


def json_rows(rows):
    clean = {}
    for key, r in rows.items():
        r = dict(r)
        if r["loop"]:
            r["loop"] = {k: v for k, v in r["loop"].items() if not k.startswith("_")}
        clean[key] = r
    return clean


def baseline_of(rows):
    """What the check compares: per kernel, registers, spill ops and the loop's numbers."""
    out = {}
    for key, r in sorted(rows.items()):
        b = {"label": r["label"], "registers": r["registers"], "spill_ops": r["spill_ops"]}
        if r["loop"]:
            lp = r["loop"]
            b.update(
                {
                    "loop_instructions": lp["instructions"],
                    "mma": lp["mma"],
                    "instructions_per_mma": lp["instructions_per_mma"],
                    "ldsm_per_mma": lp["ldsm_per_mma"],
                    "ldgsts_per_mma": lp["ldgsts_per_mma"],
                    "branches": lp["branches"],
                }
            )
        out[key] = b
    return {"arch": ARCH, "tolerance_instructions_per_mma": PER_MMA_TOLERANCE, "kernels": out}


def check(rows, baseline):
    """Regressions against a baseline: [str] (empty: none), and notes on improvements."""
    tol = baseline.get("tolerance_instructions_per_mma", PER_MMA_TOLERANCE)
    problems, notes = [], []
    for key, b in sorted(baseline["kernels"].items()):
        r = rows.get(key)
        name = f"{b.get('label', key)} ({key})" if b.get("label", key) != key else key
        if r is None:
            problems.append(f"{name}: missing from the build")
            continue
        if b.get("registers") is not None and r["registers"] is not None:
            if r["registers"] > b["registers"]:
                problems.append(f"{name}: registers {b['registers']} -> {r['registers']}")
            elif r["registers"] < b["registers"]:
                notes.append(f"{name}: registers {b['registers']} -> {r['registers']}")
        if r["spill_ops"] > b.get("spill_ops", 0):
            problems.append(f"{name}: spills/local memory, {b.get('spill_ops', 0)} -> {r['spill_ops']} STL/LDL")
        if "instructions_per_mma" in b:
            lp = r["loop"]
            if lp is None:
                problems.append(f"{name}: no loop with MMAs any more")
                continue
            old, new = b["instructions_per_mma"], lp["instructions_per_mma"]
            if new > old * (1 + tol) + 1e-9:  # 1e-9: 10.2 against 10.0 * 1.02 in floats
                problems.append(
                    f"{name}: instructions per MMA {old} -> {new} (+{100 * (new / old - 1):.1f}%, "
                    f"{b.get('loop_instructions')} -> {lp['instructions']} instructions for "
                    f"{b.get('mma')} -> {lp['mma']} MMA)"
                )
            elif new < old * (1 - tol):
                notes.append(f"{name}: instructions per MMA {old} -> {new}")
    for key in sorted(set(rows) - set(baseline["kernels"])):
        notes.append(f"{rows[key]['label']}: new kernel, not in the baseline")
    return problems, notes


def show(rows, sass, pattern, inputs, cuobjdump, nvdisasm):
    """Print the loop's SASS of the kernels whose label or key contains `pattern`, with the
    source line of each instruction when nvdisasm can read the cubin's line table."""
    with_loop = [(k, r) for k, r in rows.items() if r["loop"]]
    # An exact label first: 'Plain<half> 64x64' is also a substring of 'FloatPlain<half> 64x64'.
    picked = [(k, r) for k, r in with_loop if pattern in (r["label"], k)]
    picked = picked or [(k, r) for k, r in with_loop if pattern in r["label"] or pattern in k]
    if not picked:
        sys.exit(f"sass_report: no kernel with an MMA loop matches {pattern!r}")
    lines = source_lines(inputs, cuobjdump, nvdisasm, {r["mangled"] for _, r in picked}) if nvdisasm else {}
    for key, r in picked:
        lp = r["loop"]
        want = set(lp["_addresses"])
        where = lines.get(r["mangled"], {})
        print(f"== {r['label']}  ({key})")
        print(
            f"   loop 0x{int(lp['header'], 16):x}..{lp['latch']}: {lp['instructions']} instructions, {lp['mma']} MMA, "
            f"{lp['blocks']} blocks, {lp['inner_loops']} inner loops"
        )
        per_line = Counter()
        prev = None
        for ins in sass[r["mangled"]]:
            if ins.addr not in want:
                continue
            if prev is not None and ins.addr != prev + 16:
                print("        ...")
            prev = ins.addr
            src = where.get(ins.addr, "")
            per_line[src] += 1
            print(f"  {ins.addr:6x}  {ins.text:<60s} {src}")
        if where:
            print("   instructions by source line:")
            for src, n in per_line.most_common():
                print(f"   {n:5d}  {src or '?'}")
        print()


def source_lines(inputs, cuobjdump, nvdisasm, mangled):
    """{mangled: {addr: 'file:line'}} from nvdisasm -g on the extracted sm_90 cubins."""
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for path in inputs:
            subprocess.run([cuobjdump, "-xelf", ARCH, os.path.abspath(path)], cwd=tmp, capture_output=True)
        for cubin in sorted(f for f in os.listdir(tmp) if f.endswith(".cubin")):
            text = subprocess.run([nvdisasm, "-c", "-g", os.path.join(tmp, cubin)], capture_output=True, text=True).stdout
            func, where = None, None
            for line in text.splitlines():
                m = re.match(r"^(\S+):\s*$", line)
                if m and not m.group(1).startswith("."):
                    func = m.group(1) if m.group(1) in mangled else None
                    if func:
                        out[func] = {}
                    continue
                if func is None:
                    continue
                m = re.search(r'//## File "([^"]+)", line (\d+)', line)
                if m:
                    where = f"{os.path.basename(m.group(1))}:{m.group(2)}"
                    continue
                m = INSTR_RE.match(line)
                if m and where:
                    out[func][int(m.group(1), 16)] = where
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("build", nargs="?", default="build", help="build directory, or a .a/.o/.cubin (default build)")
    ap.add_argument("--tools", help="directory with cuobjdump and nvdisasm (scripts/sass_env.sh prints it)")
    ap.add_argument("--markdown", action="store_true", help="print the Markdown table (the default without other output)")
    ap.add_argument("--mma-only", action="store_true", help="the table without the kernels that have no MMA loop")
    ap.add_argument("--json", metavar="FILE", help="write every kernel's numbers as JSON")
    ap.add_argument("--write-baseline", metavar="FILE", help="write the numbers that --check compares")
    ap.add_argument("--check", metavar="BASELINE", help="exit 1 when a kernel got worse than BASELINE")
    ap.add_argument("--show", metavar="LABEL", help="print the MMA loop's SASS of the kernels matching LABEL")
    args = ap.parse_args(argv)

    cuobjdump = find_tool("cuobjdump", args.tools)
    if not cuobjdump:
        sys.exit("sass_report: no cuobjdump (run scripts/sass_env.sh and pass --tools)")
    inputs = find_inputs(args.build)
    if not inputs:
        sys.exit(f"sass_report: no libgp_kernels_cuda.a nor gp_kernels_cuda objects under {args.build}")
    print(f"sass_report: {cuobjdump} on {', '.join(inputs)}", file=sys.stderr)
    rows, sass = analyse(inputs, cuobjdump)
    if not rows:
        sys.exit(f"sass_report: no {ARCH} code in {', '.join(inputs)}")

    if args.show:
        show(rows, sass, args.show, inputs, cuobjdump, find_tool("nvdisasm", args.tools))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"arch": ARCH, "kernels": json_rows(rows)}, f, indent=1, sort_keys=True)
            f.write("\n")
    if args.write_baseline:
        with open(args.write_baseline, "w") as f:
            json.dump(baseline_of(rows), f, indent=1, sort_keys=True)
            f.write("\n")
    if args.markdown or not (args.json or args.write_baseline or args.check or args.show):
        print(markdown(rows, args.mma_only))
    if args.check:
        with open(args.check) as f:
            baseline = json.load(f)
        problems, notes = check(rows, baseline)
        for n in notes:
            print(f"better or new: {n}")
        for p in problems:
            print(f"WORSE: {p}")
        if notes:
            # A ratchet: the baseline follows improvements only when someone writes it.
            print(f"sass_report: to keep an improvement, rewrite {args.check} with --write-baseline")
        if problems:
            print(f"sass_report: {len(problems)} regression(s) against {args.check}")
            return 1
        print(f"sass_report: {len(baseline['kernels'])} kernels no worse than {args.check}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
