#!/usr/bin/env bash
# Without a GPU, what nvcc can prove about the tensor-core kernels (issue 9, item 7):
#  - the sm_90 PTX of each file holds mma.sync, ldmatrix and cp.async (the kernels did
#    not fall back to something else);
#  - ptxas reports no spills for any of its kernels on sm_80 and sm_90.
# Usage: check_tensor_core_kernels.sh NVCC SOURCE_ROOT FILE.cu...
set -euo pipefail
nvcc=$1 root=$2
shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for src in "$@"; do
  name=$(basename "$src" .cu)
  flags=(-std=c++20 -O3 -I "$root" -DGP_KERNEL_NS=gp_cuda --expt-relaxed-constexpr)
  "$nvcc" "${flags[@]}" -arch=sm_90 -ptx "$root/$src" -o "$tmp/$name.ptx"
  for insn in mma.sync.aligned.m16n8k16 ldmatrix.sync.aligned cp.async.cg.shared.global cp.async.wait_group; do
    n=$(grep -c "$insn" "$tmp/$name.ptx" || true)
    if [[ $n -eq 0 ]]; then
      echo "$src: sm_90 PTX has no $insn"
      status=1
    else
      echo "$src: sm_90 PTX: $n x $insn"
    fi
  done
  for arch in 80 90; do
    "$nvcc" "${flags[@]}" -arch=sm_$arch -cubin -Xptxas -v "$root/$src" -o "$tmp/$name.$arch.cubin" 2>"$tmp/$name.$arch.log"
    kernels=$(grep -c "bytes spill stores" "$tmp/$name.$arch.log" || true)
    spilling=$(grep "bytes spill stores" "$tmp/$name.$arch.log" | grep -vc " 0 bytes spill stores, 0 bytes spill loads" || true)
    regs=$(grep -o "Used [0-9]* registers" "$tmp/$name.$arch.log" | awk '{print $2}' | sort -n | tail -n 1)
    echo "$src: sm_$arch: $kernels kernels, $spilling spilling, at most $regs registers"
    if [[ $kernels -eq 0 || $spilling -ne 0 ]]; then
      grep -B1 "spill" "$tmp/$name.$arch.log" | grep -v " 0 bytes spill stores, 0 bytes spill loads" || true
      status=1
    fi
  done
done
[[ $status -eq 0 ]] && echo "tensor-core kernels: OK"
exit $status
