#!/usr/bin/env bash
# The install tree as a user gets it: `cmake --install` of BUILD (default build) into a
# prefix, the prefix copied elsewhere and the original removed; then a C and a C++
# program built outside the source tree against the copy, with find_package (shared and
# static) and with pkg-config (shared and --static), each loading the bundled model with
# no path and colouring a sample like the installed CLI with the same hints. Also checks
# the SONAME and that the shared library exports only the public API.
#
#   scripts/check_install.sh [BUILD] [WORKDIR]
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
work=${2:-$(mktemp -d /tmp/gp-install.XXXXXX)}
fail() { echo "check_install: $*" >&2; exit 1; }
# Reuse only a folder this script made (it leaves a marker); never wipe someone else's.
if [[ -e $work && -n $(ls -A "$work" 2>/dev/null) && ! -e $work/.gp-check-install ]]; then
  fail "$work exists and is not empty: give a new folder"
fi
rm -rf "$work" && mkdir -p "$work" && touch "$work/.gp-check-install"

cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
cp -a "$work/prefix" "$work/moved"
rm -rf "$work/prefix"
p=$work/moved
so=$(ls "$p"/lib*/libguidingpainter.so.0)

echo "== SONAME"
readelf -d "$so" >"$work/dynamic.txt"
grep -q 'SONAME.*\[libguidingpainter\.so\.0\]' "$work/dynamic.txt" || fail "no SONAME libguidingpainter.so.0 in $so"
grep SONAME "$work/dynamic.txt"

echo "== exported symbols: the public API only"
nm -D --defined-only "$so" | awk '{print $3}' | c++filt >"$work/exports.txt"
bad=$(grep -v -E '^(gp_[A-Za-z0-9_]*$|gp::(Model|Session|Image|ImageRgba|Error|parse_device|device_name|parse_precision|bundled_model_path|set_log_callback)\b|typeinfo (name )?for gp::Error$|vtable for gp::Error$)' "$work/exports.txt" || true)
[[ -z "$bad" ]] || { echo "$bad" | head -20; fail "libguidingpainter.so exports internal symbols"; }
grep -q '^gp_model_load$' "$work/exports.txt" || fail "gp_model_load is not exported"
echo "$(wc -l <"$work/exports.txt") symbols, all public"

echo "== loadable with dlopen (as ctypes, cffi and plugins load it)"
/usr/bin/python3 -c 'import ctypes, sys; lib = ctypes.CDLL(sys.argv[1]); lib.gp_version.restype = ctypes.c_char_p; print("dlopen:", lib.gp_version().decode())' "$so"

echo "== C API handle checks through ctypes on the installed library"
GP_LIBRARY=$so GP_DEVICE=sim /usr/bin/python3 -m unittest -q "$src/tests/install/test_c_api_handles.py"

echo "== the installed tree names no absolute path of its own"
! grep -rl --exclude='*.safetensors' --exclude='*.png' "$work/prefix" "$p" || fail "an installed file names the install prefix"

sketch=$p/share/guidingpainter/samples/1F3E0-sketch.png
[[ -f $sketch ]] || fail "no sample installed"
export GP_DEVICE=sim
unset GP_MODEL
"$p/bin/guidingpainter" --version
"$p/bin/guidingpainter" info >"$work/info.txt"
grep -q "$p/share/guidingpainter/" "$work/info.txt" || fail "the installed CLI does not use the installed model"
"$p/bin/guidingpainter" colorize --sketch "$sketch" --hint 1=#EB503C --hint 2=#468CE6 -o "$work/cli.png"

# Runs an example program with the bundled model (`-`) on the sample; its picture must be
# the installed CLI's. A shared-library program finds the model beside
# libguidingpainter.so; a static one has no library to look beside (only its own
# bin/../share/ or $GP_MODEL), so it is given $GP_MODEL.
colour_like_the_cli() {
  local exe=$1 name
  name=$(basename "$1")
  local model_env=()
  [[ $name == *static* ]] && model_env=(GP_MODEL="$p/share/guidingpainter/guidingpainter-emoji.safetensors")
  (cd "$work" && env "${model_env[@]}" "$exe" - "$sketch" "$work/$name.png") >"$work/$name.log"
  cmp "$work/cli.png" "$work/$name.png" || fail "$name's picture differs from the installed CLI's"
}

echo "== CMake package"
cmake -S "$src/tests/install" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$p" -DGP_EXAMPLES="$src/examples" \
  -DCMAKE_BUILD_TYPE=Release >"$work/consumer.log"
cmake --build "$work/consumer" -j "$(nproc)" >>"$work/consumer.log"
for exe in consumer_cpp consumer_c consumer_cpp_static; do colour_like_the_cli "$work/consumer/$exe"; done
grep -q "^model $p/share/guidingpainter/" "$work/consumer_cpp.log" ||
  fail "consumer_cpp did not load the installed bundled model: $(head -1 "$work/consumer_cpp.log")"

echo "== pkg-config"
export PKG_CONFIG_PATH=$(dirname "$(ls -d "$p"/lib*/pkgconfig/guidingpainter.pc)")
pkg-config --modversion guidingpainter
libdir=$(pkg-config --variable=libdir guidingpainter)
cc -std=c11 "$src/examples/minimal.c" $(pkg-config --cflags guidingpainter) $(pkg-config --libs guidingpainter) \
  -Wl,-rpath,"$libdir" -o "$work/pc_c"
c++ -std=c++20 "$src/examples/minimal.cpp" $(pkg-config --cflags guidingpainter) $(pkg-config --libs guidingpainter) \
  -Wl,-rpath,"$libdir" -o "$work/pc_cpp"
# Static: the archive, then the dependencies `pkg-config --static` lists.
c++ -std=c++20 "$src/examples/minimal.cpp" $(pkg-config --cflags guidingpainter) "$libdir/libguidingpainter.a" \
  $(pkg-config --static --libs guidingpainter | sed 's/-lguidingpainter / /') -o "$work/pc_cpp_static"
for exe in pc_c pc_cpp pc_cpp_static; do colour_like_the_cli "$work/$exe"; done
ldd "$work/pc_c" >"$work/ldd.txt"
grep -q "$libdir/libguidingpainter.so.0" "$work/ldd.txt" || fail "pc_c does not use the installed shared library"
echo "check_install: all good ($work)"
