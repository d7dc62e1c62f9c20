#!/usr/bin/env bash
# The main job: colorize the bundled sample sketch with the bundled model and write
# the pictures to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh guidingpainter_cli >/dev/null
mkdir -p out
build/guidingpainter colorize --sketch examples/samples/sketch.png -o out/colorized.png
echo "wrote out/colorized.png"
