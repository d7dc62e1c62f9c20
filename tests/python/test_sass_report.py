#!/usr/bin/python3
"""tools/sass_report.py on synthetic SASS in cuobjdump's format: the loop it picks (nested
loops, a rarely taken block placed after the loop, two versions of a loop, no MMA at all),
what it counts there, the kernel labels and the baseline check. No cuobjdump needed.

Run: /usr/bin/python3 -m unittest tests/python/test_sass_report.py   (under a second)
"""
import os
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import sass_report as sr  # noqa: E402


def sass(*functions):
    """cuobjdump -sass text for [(name, [instruction text, ...])], 16 bytes an instruction."""
    lines = ["", "Fatbin elf code:", "================", "arch = sm_90", "", "\tcode for sm_90"]
    for name, body in functions:
        lines.append(f"\t\tFunction : {name}")
        lines.append('\t.headerflags\t@"EF_CUDA_SM90 EF_CUDA_VIRTUAL_SM(EF_CUDA_SM90)"')
        for i, text in enumerate(body):
            lines.append(f"        /*{16 * i:04x}*/                   {text} ;   /* 0x000fe20000000800 */")
            lines.append("                                                         /* 0x000fe20000000800 */")
        lines.append("\t\t..........")
    return "\n".join(lines) + "\n"


def instrs(body):
    return sr.parse_sass(sass(("k", body)))[0]["instrs"]


# An outer loop (0x10-0xa0) holding the MMA loop (0x30-0x70) and, after it, a loop without
# MMAs (0x80-0x90); the BRA-to-itself that ptxas puts after EXIT is unreachable: no loop.
NESTED = [
    "MOV R1, c[0x0][0x28]",  # 0x00
    "ISETP.GE.AND P2, PT, R0, 0x4, PT",  # 0x10 outer header
    "LDGSTS.E.BYPASS.128 [R2], desc[UR4][R4.64]",  # 0x20
    "IADD3 R6, R6, 0x1, RZ",  # 0x30 MMA loop header
    "LDSM.16.M88.4 R8, [R6]",  # 0x40
    "HMMA.16816.F32 R12, R8, R16, R12",  # 0x50
    "HMMA.16816.F32 R20, R8.reuse, R18, R20",  # 0x60
    "@P0 BRA 0x30",  # 0x70 MMA loop latch
    "IADD3 R7, R7, 0x1, RZ",  # 0x80 loop without MMA
    "@!P1 BRA 0x80",  # 0x90
    "@P2 BRA 0x10",  # 0xa0 outer latch
    "EXIT",  # 0xb0
    "BRA 0xc0",  # 0xc0
]


class LoopFinding(unittest.TestCase):
    def test_innermost_loop_with_mma_in_nested_loops(self):
        lp = sr.mma_loop(instrs(NESTED))
        self.assertEqual((lp["header"], lp["latch"]), (0x30, 0x70))
        self.assertEqual(lp["instructions"], 5)
        self.assertEqual((lp["mma"], lp["ldsm"], lp["ldgsts"], lp["branches"]), (2, 1, 0, 1))
        self.assertEqual(lp["inner_loops"], 0)
        self.assertEqual(lp["span_instructions"], 5)

    def test_loops_found(self):
        cfg = sr.Cfg(instrs(NESTED))
        headers = [cfg.instrs[cfg.blocks[lp["header"]][0]].addr for lp in cfg.loops()]
        self.assertEqual(headers, [0x10, 0x30, 0x80])

    def test_mma_loop_holding_a_loop_without_mma(self):
        body = [
            "MOV R1, c[0x0][0x28]",  # 0x00
            "HMMA.16816.F32.BF16 R12, R8, R16, R12",  # 0x10 MMA loop header
            "IADD3 R7, R7, 0x1, RZ",  # 0x20 inner loop, no MMA
            "@P1 BRA 0x20",  # 0x30
            "LDSM.16.M88.4 R8, [R6]",  # 0x40
            "@!P0 BRA 0x10",  # 0x50 latch
            "EXIT",  # 0x60
        ]
        lp = sr.mma_loop(instrs(body))
        self.assertEqual((lp["header"], lp["latch"]), (0x10, 0x50))
        self.assertEqual((lp["instructions"], lp["mma"], lp["branches"], lp["inner_loops"]), (5, 1, 2, 1))

    def test_block_placed_after_the_latch_belongs_to_the_loop(self):
        # 0x60-0x70 runs inside the loop (taken from 0x20, back to 0x30): the natural loop
        # counts it, the address range [0x10, 0x40] does not. BRA 0x30 jumps backwards but
        # is no back edge (0x30 does not dominate 0x60).
        body = [
            "MOV R1, c[0x0][0x28]",  # 0x00
            "HMMA.16816.F32 R12, R8, R16, R12",  # 0x10 header
            "@P0 BRA 0x60",  # 0x20
            "LDSM.16.M88.4 R8, [R6]",  # 0x30
            "@P1 BRA 0x10",  # 0x40 latch
            "EXIT",  # 0x50
            "LDG.E.128 R20, desc[UR4][R2.64]",  # 0x60
            "BRA 0x30",  # 0x70
            "BRA 0x80",  # 0x80
        ]
        lp = sr.mma_loop(instrs(body))
        self.assertEqual((lp["header"], lp["latch"]), (0x10, 0x40))
        self.assertEqual(lp["instructions"], 6)
        self.assertEqual(lp["ldg"], 1)
        self.assertEqual(lp["branches"], 3)
        self.assertEqual(lp["span_instructions"], 4)
        self.assertEqual(lp["addresses"], [0x10, 0x20, 0x30, 0x40, 0x60, 0x70])

    def test_two_versions_of_the_loop_report_the_worse(self):
        body = [
            "@P3 BRA 0x60",  # 0x00
            "HMMA.16816.F32 R12, R8, R16, R12",  # 0x10 version 1: 2 instructions per MMA
            "HMMA.16816.F32 R12, R8, R16, R12",  # 0x20
            "IADD3 R7, R7, 0x1, RZ",  # 0x30
            "@P0 BRA 0x10",  # 0x40
            "EXIT",  # 0x50
            "HMMA.16816.F32 R12, R8, R16, R12",  # 0x60 version 2: 3 instructions per MMA
            "IADD3 R7, R7, 0x1, RZ",  # 0x70
            "@P0 BRA 0x60",  # 0x80
            "EXIT",  # 0x90
        ]
        lp = sr.mma_loop(instrs(body))
        self.assertEqual(lp["loops_with_mma"], 2)
        self.assertEqual((lp["header"], lp["instructions"], lp["mma"]), (0x60, 3, 1))

    def test_kernel_without_mma(self):
        body = ["MOV R1, c[0x0][0x28]", "IADD3 R7, R7, 0x1, RZ", "@P1 BRA 0x10", "EXIT", "BRA 0x40"]
        self.assertIsNone(sr.mma_loop(instrs(body)))
        # MMAs outside any loop do not make a loop either.
        self.assertIsNone(sr.mma_loop(instrs(["HMMA.16816.F32 R12, R8, R16, R12", "EXIT"])))

    def test_flow_of_branch_forms(self):
        def flow(text):
            return sr.flow(sr.Instr(0, text))

        self.assertEqual(flow("BRA 0x30"), ([0x30], False, True))
        self.assertEqual(flow("@PT BRA 0x30"), ([0x30], False, True))
        self.assertEqual(flow("@!P0 BRA 0x30"), ([0x30], True, True))
        self.assertEqual(flow("@P0 BRA P2, 0x3190"), ([0x3190], True, True))
        self.assertEqual(flow("BRA !P2, 0x3190"), ([0x3190], True, True))
        self.assertEqual(flow("BRA.DIV UR4, 0x500"), ([0x500], True, True))
        self.assertEqual(flow("EXIT"), ([], False, True))
        self.assertEqual(flow("@P0 EXIT"), ([], True, True))
        self.assertEqual(flow("BSSY B0, 0x3d0"), ([], True, False))
        self.assertEqual(flow("CALL.REL.NOINC 0x900"), ([], True, False))
        self.assertEqual(flow("BRX R4 -0x10"), ([], False, True))


class Parsing(unittest.TestCase):
    def test_members_functions_and_instructions(self):
        text = "member /b/kernels/libgp_kernels_cuda.a:conv_mma.cu.o:\n" + sass(
            ("_Z1av", ["@!P0 BRA 0x20", "HMMA.16816.F32 R4, R8, R12, R4", "EXIT"]), ("_Z1bv", ["EXIT"])
        )
        ks = sr.parse_sass(text)
        self.assertEqual([(k["mangled"], k["object"], len(k["instrs"])) for k in ks],
                         [("_Z1av", "conv_mma.cu.o", 3), ("_Z1bv", "conv_mma.cu.o", 1)])
        first = ks[0]["instrs"][0]
        self.assertEqual((first.addr, first.pred, first.opcode, first.operands, first.family),
                         (0, "!P0", "BRA", "0x20", "BRA"))
        self.assertEqual(ks[0]["instrs"][1].family, "HMMA")

    def test_res_usage(self):
        text = (" Function _Z1av:\n  REG:95 STACK:0 SHARED:0 LOCAL:0 CONSTANT[0]:424 TEXTURE:0\n"
                " Function _Z1bv:\n  REG:12 STACK:8 SHARED:16 LOCAL:4 CONSTANT[0]:400\n")
        self.assertEqual(sr.parse_res_usage(text), {
            "_Z1av": {"regs": 95, "stack": 0, "shared": 0, "local": 0},
            "_Z1bv": {"regs": 12, "stack": 8, "shared": 16, "local": 4},
        })

    def test_key_and_label(self):
        dem = ("void gp_cuda::(anonymous namespace)::conv3x3_mma_kernel<__half, gp_cuda::(anonymous namespace)::"
               "PlainGather<__half>, gp_cuda::(anonymous namespace)::TileT<64, 64, 2> >(gp_cuda::(anonymous "
               "namespace)::PlainGather<__half>, __half const*, float const*, __half*, gp_cuda::(anonymous "
               "namespace)::Geometry)")
        key = sr.key_of(dem)
        self.assertEqual(key, "conv3x3_mma_kernel<__half, PlainGather<__half>, TileT<64, 64, 2> >")
        self.assertEqual(sr.label_of(key.replace("2> >", "2>, true>")), "Plain<half> 64x64 vector")
        self.assertEqual(sr.label_of(key.replace("2> >", "2>, false>")), "Plain<half> 64x64 per element")
        self.assertEqual(sr.label_of(key), "Plain<half> 64x64")
        self.assertEqual(sr.label_of("conv3x3_mma_kernel<__nv_bfloat16, UpConcatGather<__nv_bfloat16>, TileT<128, 32, 4> >"),
                         "UpConcat<bf16> 128x32")
        self.assertEqual(sr.key_of("gp_cuda::(anonymous namespace)::resolve_kernel(int*, unsigned long)"),
                         "resolve_kernel")
        self.assertEqual(sr.label_of("conv_kernel<3, PlainGather, BiasActivationStore<ReluOp>, true>"),
                         "conv_kernel<3, PlainGather, BiasActivationStore<ReluOp>, true>")


def report(regs=95, loop_instructions=100, spill_loads=0):
    body = ["MOV R1, c[0x0][0x28]"] + ["LDL R2, [R1]"] * spill_loads
    body += ["HMMA.16816.F32 R12, R8, R16, R12"] * 10 + ["IADD3 R7, R7, 0x1, RZ"] * (loop_instructions - 11)
    body += [f"@P0 BRA 0x{16 * (1 + spill_loads):x}", "EXIT"]
    kernels = sr.parse_sass(sass(("mma_kernel", body), ("plain_kernel", ["EXIT"])))
    for k in kernels:
        k["res"] = {"regs": regs if k["mangled"] == "mma_kernel" else 10}
    return sr.build_report(kernels)


class Check(unittest.TestCase):
    def setUp(self):
        self.baseline = sr.baseline_of(report())

    def test_counts_in_the_report(self):
        lp = report()["mma_kernel"]["loop"]
        self.assertEqual((lp["instructions"], lp["mma"], lp["instructions_per_mma"]), (100, 10, 10.0))

    def test_same_build_passes(self):
        self.assertEqual(sr.check(report(), self.baseline), ([], []))

    def test_instructions_per_mma_within_two_percent(self):
        problems, _ = sr.check(report(loop_instructions=102), self.baseline)
        self.assertEqual(problems, [])
        problems, _ = sr.check(report(loop_instructions=103), self.baseline)
        self.assertEqual(len(problems), 1)
        self.assertIn("mma_kernel: instructions per MMA 10.0 -> 10.3", problems[0])

    def test_registers_spills_and_missing_kernels(self):
        problems, _ = sr.check(report(regs=96, spill_loads=1), self.baseline)
        self.assertEqual(len(problems), 2)
        self.assertIn("registers 95 -> 96", problems[0])
        self.assertIn("spills", problems[1])
        del self.baseline["kernels"]["plain_kernel"]
        self.baseline["kernels"]["gone_kernel"] = {"label": "gone_kernel", "registers": 8, "spill_ops": 0}
        problems, notes = sr.check(report(), self.baseline)
        self.assertEqual(problems, ["gone_kernel: missing from the build"])
        self.assertEqual(notes, ["plain_kernel: new kernel, not in the baseline"])

    def test_improvements_are_notes(self):
        problems, notes = sr.check(report(regs=90, loop_instructions=80), self.baseline)
        self.assertEqual(problems, [])
        self.assertEqual(len(notes), 2)

    def test_markdown_tables(self):
        md = sr.markdown(report())
        self.assertIn("| `mma_kernel` | 95 | 0 | 100 | 10 | 10.0 |", md)
        self.assertIn("| `plain_kernel` | 10 | 0 |", md)
        self.assertNotIn("plain_kernel", sr.markdown(report(), only_mma=True))


if __name__ == "__main__":
    unittest.main()
