#!/usr/bin/env bash
# The main job: for each bundled sample sketch (examples/samples, from the validation
# split), rank its regions and colorize it with the bundled model, the first ranked
# regions taking the colours of the sample's colour picture (a simulated user).
# Writes, per sample, out/NAME-regions.png (ranked regions), out/NAME-hints.png (the
# hints given) and out/NAME-colorized.png (the result).
set -euo pipefail
cd "$(dirname "$0")/.."
hints=${GP_DEMO_HINTS:-5}
scripts/build.sh --target guidingpainter_cli >/dev/null
mkdir -p out
for sketch in examples/samples/*-sketch.png; do
  name=$(basename "$sketch" -sketch.png)
  build/guidingpainter regions --sketch "$sketch" -o "out/$name-regions.png" --json "out/$name-regions.json"
  build/guidingpainter colorize --sketch "$sketch" --reference "examples/samples/$name-color.png" --hints "$hints" \
    --hint-picture "out/$name-hints.png" -o "out/$name-colorized.png"
done
echo "pictures are in $(pwd)/out: NAME-regions.png, NAME-hints.png, NAME-colorized.png"
