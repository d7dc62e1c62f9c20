#!/usr/bin/env bash
# The Python package as a user gets it: `pip install .` of this source tree into a fresh
# virtual environment (no system site packages: numpy, scikit-build-core and pytest come
# from PyPI), then tests/python_api on the installed package against the CLI, and the
# README's Python snippet run as written, from outside the source tree.
#
#   scripts/check_python.sh [--prefix PREFIX] [WORKDIR]
#
# Without --prefix: the whole engine is built by pip (what `pip install .` does for a
# user; minutes). With --prefix PREFIX (an installed guidingpainter of this version, e.g.
# the tree scripts/check_install.sh leaves in WORKDIR/moved): only the module is built,
# against that library (GP_PYTHON_ONLY), which is what CI does to stay within its time.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
prefix=""
if [[ ${1:-} == --prefix ]]; then
  prefix=$(cd "$2" && pwd)
  shift 2
fi
work=${1:-$(mktemp -d /tmp/gp-python.XXXXXX)}
fail() { echo "check_python: $*" >&2; exit 1; }
if [[ -e $work && -n $(ls -A "$work" 2>/dev/null) && ! -e $work/.gp-check-python ]]; then
  fail "$work exists and is not empty: give a new folder"
fi
rm -rf "$work" && mkdir -p "$work" && touch "$work/.gp-check-python"

echo "== a fresh virtual environment"
/usr/bin/python3 -m venv "$work/venv"
py=$work/venv/bin/python
pip=("$py" -m pip --disable-pip-version-check --no-input)

echo "== pip install . ${prefix:+(the module only, against $prefix)}"
pip_args=()
if [[ -n $prefix ]]; then
  pip_args=(--config-settings=cmake.define.GP_PYTHON_ONLY=ON "--config-settings=cmake.define.CMAKE_PREFIX_PATH=$prefix")
fi
start=$(date +%s)
(cd "$src" && "${pip[@]}" install -q "${pip_args[@]}" .) >"$work/pip.log" 2>&1 || { tail -n 60 "$work/pip.log"; fail "pip install . failed"; }
echo "built and installed in $(( $(date +%s) - start )) s"
"${pip[@]}" install -q pytest >>"$work/pip.log" 2>&1 || { tail -n 20 "$work/pip.log"; fail "pip install pytest failed"; }

# Imported from the venv, never from the source tree.
package=$(cd "$work" && "$py" -c 'import guidingpainter as gp, os; print(os.path.dirname(gp.__file__))')
[[ $package == "$work/venv/"* ]] || fail "guidingpainter imported from $package, not from the venv"
echo "package: $package, version $(cd "$work" && "$py" -c 'import guidingpainter as gp; print(gp.__version__)')"

if [[ -n $prefix ]]; then
  cli=$prefix/bin/guidingpainter
else
  cli=$package/bin/guidingpainter
  [[ -f $package/share/guidingpainter/guidingpainter-emoji.safetensors ]] || fail "the wheel holds no bundled model"
  ls "$package"/lib*/libguidingpainter.so.0 >/dev/null || fail "the wheel holds no libguidingpainter.so.0"
fi
[[ -x $cli ]] || fail "no CLI at $cli"

echo "== tests/python_api on the installed package"
export GP_DEVICE=sim
unset GP_MODEL PYTHONPATH
(cd "$work" && GP_CLI=$cli "$py" -m pytest -q -p no:cacheprovider "$src/tests/python_api")

echo "== the README's Python snippet, as written"
# The indented block of README.md that begins with `import guidingpainter as gp`.
"$py" - "$src/README.md" "$work/readme_snippet.py" <<'EOF'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
start = next(i for i, line in enumerate(lines) if line.strip() == "import guidingpainter as gp" and line.startswith("    "))
block = []
for line in lines[start:]:
    if line and not line.startswith("    "):
        break
    block.append(line[4:])
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(block).rstrip() + "\n")
EOF
mkdir -p "$work/snippet"
cp "$src/examples/samples/1F3E0-sketch.png" "$work/snippet/sketch.png"
(cd "$work/snippet" && "$py" "$work/readme_snippet.py") | tee "$work/snippet.log"
[[ -s $work/snippet/out.png ]] || fail "the README snippet wrote no out.png"
"$cli" colorize --sketch "$work/snippet/sketch.png" --hint 1=#E62828 -o "$work/snippet/cli.png"
cmp "$work/snippet/out.png" "$work/snippet/cli.png" || fail "the README snippet's picture differs from the CLI's"
echo "check_python: all good ($work)"
