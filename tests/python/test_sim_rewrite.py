#!/usr/bin/python3
"""The inline-PTX rewrite of scripts/sim_rewrite.py: the calls each asm form becomes, and
the errors for what the simulator does not execute.

Run: /usr/bin/python3 -m unittest tests/python/test_sim_rewrite.py   (under a second)
"""
import os
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import sim_rewrite as rw  # noqa: E402


def rewrite(src):
    out, ok = rw.rewrite("t.cu", src, lambda including, name: None)
    assert ok
    return out


class InlinePtx(unittest.TestCase):
    def test_mma_with_read_write_accumulators(self):
        out = rewrite('asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, '
                      '{%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\\n" : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]) '
                      ': "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));')
        self.assertEqual(out, "::gpusim::ptx::mma_m16n8k16(::gpusim::ptx::Type::BF16, (d[0]), (d[1]), (d[2]), (d[3]), "
                         "::gpusim::ptx::bits(a[0]), ::gpusim::ptx::bits(a[1]), ::gpusim::ptx::bits(a[2]), "
                         "::gpusim::ptx::bits(a[3]), ::gpusim::ptx::bits(b[0]), ::gpusim::ptx::bits(b[1]), "
                         "(d[0]), (d[1]), (d[2]), (d[3]));")

    def test_mma_k8_with_separate_c(self):
        out = rewrite('__asm__ __volatile__("mma.sync.aligned.m16n8k8.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5}, '
                      '{%6}, {%7,%8,%9,%10};" : "=f"(x0), "=f"(x1), "=f"(x2), "=f"(x3) : "r"(a0), "r"(a1), "r"(b0), '
                      '"f"(c0), "f"(c1), "f"(c2), "f"(c3));')
        self.assertIn("::gpusim::ptx::mma_m16n8k8(::gpusim::ptx::Type::F16, (x0), (x1), (x2), (x3)", out)
        self.assertTrue(out.endswith("(c0), (c1), (c2), (c3));"))

    def test_ldmatrix_keeps_lines_and_offsets(self):
        src = ('asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared::cta.b16 {%0, %1, %2, %3}, [%4+32];\\n"\n'
               '             : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3)\n             : "r"(addr));\nint next;')
        out = rewrite(src)
        self.assertTrue(out.startswith("::gpusim::ptx::ldmatrix_x4(true, uint32_t(::gpusim::ptx::bits(addr) + "
                                       "uint32_t(32)), (r0), (r1), (r2), (r3))"))
        self.assertEqual(out.count("\n"), src.count("\n"))  # later lines stay where they were
        self.assertTrue(out.endswith("int next;"))

    def test_cp_async_forms(self):
        out = rewrite('asm volatile("cp.async.cg.shared.global.L2::128B [%0], [%1], 16, %2;\\n" '
                      ':: "r"(dst), "l"(src), "r"(n));')
        self.assertEqual(out, "::gpusim::ptx::cp_async_copy(true, ::gpusim::ptx::bits(dst), (src), 16, (n));")
        out = rewrite('asm volatile("cp.async.ca.shared.global [%0], [%1], %2;" :: "r"(dst), "l"(src), "n"(Bytes));')
        self.assertEqual(out, "::gpusim::ptx::cp_async_copy(false, ::gpusim::ptx::bits(dst), (src), (Bytes));")
        out = rewrite('asm volatile("cp.async.commit_group;\\n" ::); asm volatile("cp.async.wait_group %0;\\n" '
                      ':: "n"(N)); asm volatile("cp.async.wait_all;" ::: "memory");')
        self.assertEqual(out, "::gpusim::ptx::cp_async_commit_group(); ::gpusim::ptx::cp_async_wait_group((N)); "
                         "::gpusim::ptx::cp_async_wait_all();")

    def test_two_instructions_in_one_statement(self):
        out = rewrite('asm volatile("cp.async.commit_group;\\n\\tcp.async.wait_group 0;\\n" ::);')
        self.assertEqual(out, "(::gpusim::ptx::cp_async_commit_group(), ::gpusim::ptx::cp_async_wait_group(0));")

    def test_what_is_not_simulated_fails_where_it_is_compiled(self):
        cases = {
            'asm volatile("bar.sync 1, 64;");': 'inline PTX \\"bar.sync\\" is not simulated',
            'asm("mma.sync.aligned.m16n8k16.row.col.f16.f16.f16.f16 {%0,%1}, {%2,%3,%4,%5}, {%6,%7}, {%0,%1};" '
            ': "+r"(d0), "+r"(d1) : "r"(a), "r"(a), "r"(a), "r"(a), "r"(b), "r"(b));': "is not simulated",
            'asm volatile("{ .reg .pred p; setp.ne.b32 p, %0, 0; }" :: "r"(x));': "predicates and declarations",
            'asm volatile("cp.async.cg.shared.global [%[d]], [%[s]], 16;" :: [d] "r"(d), [s] "l"(s));':
                "named asm operands",
            'asm volatile(PTX_STRING :: "r"(x));': "must be string literals",
            'asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0}, [%1];" : "=r"(r) : "r"(a));':
                "has 1 registers, the instruction takes 2",
        }
        for src, message in cases.items():
            out = rewrite(src)
            self.assertTrue(out.startswith('static_assert(false, "gpusim: '), out)
            self.assertIn(message, out, src)

    def test_asm_in_comments_strings_and_identifiers_is_left_alone(self):
        src = '// asm volatile("bar.sync 0;");\nconst char* s = "asm(\\"x\\")"; int my_asm(int); my_asm(1);'
        self.assertEqual(rewrite(src), src)


if __name__ == "__main__":
    unittest.main()
