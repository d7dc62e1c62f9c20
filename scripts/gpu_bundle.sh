#!/usr/bin/env bash
# Builds here, for sm_90 (H100, H200), every binary the GPU check runs and packs them for
# a GPU machine that has the driver, nvcc's tools and python3 but no package registry:
#
#   scripts/gpu_bundle.sh [DIR]          (DIR: gpu-carry/ by default, ignored by git)
#
# DIR then holds run.sh (scripts/gpu_run.sh), its summariser, bundle.tar.xz (bin/: the
# stripped kernel tests, conformance programs, engine tests, cuDNN tests, CLI and
# engine_bench; lib/: the shared libraries they need beyond the C/C++ runtime and the
# driver) and MANIFEST. Carry DIR beside the repository and run, from its root,
# `DIR/run.sh OUTDIR`; `GP_GPU_DRYRUN=1 DIR/run.sh OUTDIR` walks the same steps here.
# The fixtures are not copied: they are in the repository, which travels too, and the
# test binaries read them through $GP_SOURCE_DIR (tests/source_dir.h), which run.sh sets.
#
# GP_BUNDLE_BUILD names the build tree (build-carry/ by default); GP_BUNDLE_ARCH the GPU
# (90 by default: sm_90 for the H100 and H200; scripts/gpu_check.sh passes the local GPU's).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-gpu-carry}  # relative to the repository root
build=${GP_BUNDLE_BUILD:-build-carry}
arch=${GP_BUNDLE_ARCH:-90}
start=$(date +%s)
say() { echo "gpu_bundle: $* ($(( $(date +%s) - start )) s)"; }

command -v nvcc >/dev/null || [[ -x /usr/local/cuda/bin/nvcc ]] || { echo "gpu_bundle: needs nvcc" >&2; exit 1; }
# DIR is replaced: only an empty folder or an earlier bundle.
if [[ -d $dir && -n $(ls -A "$dir") && ! -f $dir/bundle.tar.xz ]]; then
  echo "gpu_bundle: $dir is not empty and holds no bundle; name another folder" >&2
  exit 1
fi

# One architecture keeps the binaries small (the default build has sm_75, sm_80, sm_90, PTX).
# The executables find the bundle's lib/ through an RPATH of $ORIGIN/../lib, not
# LD_LIBRARY_PATH, so ncu and compute-sanitizer, which run them, keep their own
# libraries. DT_RPATH (--disable-new-dtags), unlike DT_RUNPATH, also applies to the
# libraries' own dependencies (libzip's libbz2). CMake's build RPATH is dropped: it would
# name this machine's folders (CUDA's lib64 for cuDNN). The backslash keeps $ORIGIN from
# the shell that runs the link line.
cudnn=OFF
[[ -f /usr/local/cuda/include/cudnn.h || -f /usr/include/cudnn.h || -f /usr/include/x86_64-linux-gnu/cudnn.h ]] && cudnn=ON
say "configure $build (sm_$arch, cuDNN $cudnn)"
mkdir -p "$build"
# shellcheck disable=SC2016  # $ORIGIN is for the loader, not for this shell
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGP_CUDA_ARCHITECTURES="$arch-real" -DGP_CUDNN=$cudnn \
  -DGP_PYTHON=OFF -DCMAKE_SKIP_BUILD_RPATH=ON '-DCMAKE_EXE_LINKER_FLAGS=-Wl,--disable-new-dtags,-rpath,\$ORIGIN/../lib' \
  >"$build/bundle-configure.log" 2>&1 || { cat "$build/bundle-configure.log"; exit 1; }

# The binaries: build-tree path and the target that makes it.
programs=(
  tests/sim/tensor_core_conformance_cuda:tensor_core_conformance_cuda
  tests/sim/graph_capture_cuda:graph_capture_cuda
  tests/kernels/kernel_tests_cuda:kernel_tests_cuda
  tests/engine/engine_tests:engine_tests
  guidingpainter:guidingpainter_cli
  bench/engine_bench:engine_bench
)
[[ $cudnn == ON ]] && programs+=(tests/engine/cudnn_tests:cudnn_tests)
targets=()
for p in "${programs[@]}"; do targets+=("${p#*:}"); done
say "build ${targets[*]} ($build/bundle-build.log)"
if ! cmake --build "$build" -j "$(nproc)" --target "${targets[@]}" >"$build/bundle-build.log" 2>&1; then
  tail -n 60 "$build/bundle-build.log"
  echo "gpu_bundle: build failed ($build/bundle-build.log)" >&2
  exit 1
fi

# Packed in a staging folder, then archived: the binaries share their kernels and the
# simulator, and one xz stream over all of them stores the repeats once (the dictionary
# spans the whole tar, about 100 MiB). Preset 3 packs 100 MiB in about 15 s here, within
# 15% of the size of 6e, which takes 60 s.
stage=$(mktemp -d "${TMPDIR:-/tmp}/gp-bundle.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib/cudnn"
for p in "${programs[@]}"; do
  path=${p%%:*}
  # shellcheck disable=SC2016
  if ! readelf -d "$build/$path" | grep -q 'Library rpath: \[\$ORIGIN/\.\./lib\]'; then
    echo "gpu_bundle: $build/$path has no RPATH \$ORIGIN/../lib: $(readelf -d "$build/$path" | grep -i path)" >&2
    exit 1
  fi
  strip --strip-all -o "$stage/bin/$(basename "$path")" "$build/$path"
done

# The libraries the GPU machine may lack: everything ldd resolves that is not the C/C++
# runtime or the driver (scripts/gpu_run.sh checks the same list). cuDNN's front library
# goes to lib/cudnn/, outside the RPATH: run.sh puts the machine's own cuDNN (its
# sub-libraries must be of the same version) first on LD_LIBRARY_PATH, and this one only
# lets the binaries that link it start where the machine has none.
system_lib='^(linux-vdso|libc|libm|libpthread|libdl|librt|libstdc\+\+|libgcc_s|ld-linux-x86-64|libcuda|libnvidia-[^.]*)\.so'
for f in "$stage"/bin/*; do
  ldd "$f" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}'
done | sort -u | while read -r soname path; do
  [[ $soname =~ $system_lib ]] && continue
  dest=$stage/lib
  [[ $soname == libcudnn* ]] && dest=$stage/lib/cudnn
  strip --strip-unneeded -o "$dest/$soname" "$(readlink -f "$path")"
done

say "archive"
git_commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=
if git status --porcelain --untracked-files=no 2>/dev/null | grep -q .; then dirty=" (with uncommitted changes)"; fi
{
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -n), commit $git_commit$dirty"
  echo "cuda: $( (nvcc --version 2>/dev/null || /usr/local/cuda/bin/nvcc --version) | tail -n 1)"
  echo "cmake: -DGP_CUDA_ARCHITECTURES=$arch-real -DGP_CUDNN=$cudnn (build tree $build)"
  echo "glibc: $(ldd --version | head -n 1)"
  echo
  (cd "$stage" && find bin lib -type f -print0 | sort -z | xargs -0 sha256sum)
} >"$stage/MANIFEST"
rm -rf "$dir"
mkdir -p "$dir"
tar -C "$stage" -cf - MANIFEST bin lib | xz -T1 --lzma2=preset=3,dict=128MiB >"$dir/bundle.tar.xz"
cp "$stage/MANIFEST" "$dir/MANIFEST"
install -m 755 scripts/gpu_run.sh "$dir/run.sh"
install -m 644 scripts/gpu_summary.py "$dir/gpu_summary.py"

# What travels to the GPU machine: the repository and this folder, 48 MiB at most (the
# machine takes 64 MiB in all).
unpacked=$(du -sb "$stage" | cut -f1)
packed=$(du -sb "$dir" | cut -f1)
tracked=$(git ls-files -z | du -cb --files0-from=- | tail -n 1 | cut -f1)
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
say "$dir: $(mib "$packed") ($(mib "$unpacked") unpacked); with the repository's tracked files $(mib $((packed + tracked)))"
if (( packed + tracked > ${GP_BUNDLE_MAX_MIB:-48} * 1048576 )); then
  echo "gpu_bundle: the repository and $dir are over ${GP_BUNDLE_MAX_MIB:-48} MiB" >&2
  exit 1
fi
