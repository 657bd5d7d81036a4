#!/usr/bin/env bash
# Regenerates the README's media examples (docs/media/) with the offline renderers:
#   bash scripts/readme-media.sh
set -euo pipefail
cd "$(dirname "$0")/.."
home="$(mktemp -d)"
trap 'rm -rf "$home"' EXIT
export STUDIO_HOME="$home" STUDIO_MODEL=offline
.venv/bin/studio init >/dev/null
.venv/bin/studio media image "5 pandas tricks for spreadsheet refugees" --platform x >/dev/null
.venv/bin/studio media video --preset square_feed \
  --script "Your CSV has trailing spaces. Here is the one line of pandas that fixes it. Ship it, tiny wins add up." >/dev/null
image="$(ls "$home"/media/default/*.png | head -1)"
video="$(ls "$home"/media/default/*.mp4 | head -1)"
ffmpeg -v error -y -i "$image" -vf scale=600:-2 docs/media/image-card.png
ffmpeg -v error -y -ss 2.5 -i "$video" -frames:v 1 -vf scale=540:-2 docs/media/video-frame.png
echo "wrote docs/media/image-card.png and docs/media/video-frame.png"
