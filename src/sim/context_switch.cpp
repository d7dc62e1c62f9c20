#include "context_switch.h"

// The context switch: Boost's x86-64 System V jump_fcontext with two changes. It does
// not save and restore MXCSR and the x87 control word (stmxcsr, fnstcw, ldmxcsr, fldcw):
// every fiber of a worker runs in that worker's one floating-point environment (CUDA
// code cannot change rounding modes, and nothing in the simulator does). And it leaves
// with `ret` instead of `jmp *%r8`, which keeps the CPU's return-address predictor in
// step when yield_fiber switches from one fiber to another suspended at the same call
// site, the common case. The frame layout is Boost's (0x38 bytes plus the return
// address; the first slot, where Boost keeps MXCSR/x87 CW, is unused), so contexts made
// by bctx::make_fcontext start unchanged. Define GPUSIM_BOOST_JUMP to use Boost's own.
#if defined(__x86_64__) && defined(__ELF__) && !defined(_WIN32) && !defined(GPUSIM_BOOST_JUMP)
asm(R"(
  .text
  .p2align 4
  .globl gpusim_jump_fcontext
  .hidden gpusim_jump_fcontext
  .type gpusim_jump_fcontext, @function
gpusim_jump_fcontext:
  leaq -0x38(%rsp), %rsp
  movq %r12, 0x8(%rsp)
  movq %r13, 0x10(%rsp)
  movq %r14, 0x18(%rsp)
  movq %r15, 0x20(%rsp)
  movq %rbx, 0x28(%rsp)
  movq %rbp, 0x30(%rsp)
  movq %rsp, %rax
  movq %rdi, %rsp
  movq 0x8(%rsp), %r12
  movq 0x10(%rsp), %r13
  movq 0x18(%rsp), %r14
  movq 0x20(%rsp), %r15
  movq 0x28(%rsp), %rbx
  movq 0x30(%rsp), %rbp
  leaq 0x38(%rsp), %rsp
  movq %rsi, %rdx
  movq %rax, %rdi
  ret
  .size gpusim_jump_fcontext, .-gpusim_jump_fcontext
)");
#endif
