#!/usr/bin/env bash
# rebuild.sh — rebuild every capture in Captures/ and its truth file (Debian, as root; ~5 minutes).
# Run Captures/lab/setup.sh once first. Every process started is ended by PID, every namespace removed.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
bash "$HERE/formats.sh" "$HERE/.."
python3 "$HERE/store.py" --out "$HERE/.."
