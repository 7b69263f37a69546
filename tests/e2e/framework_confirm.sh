#!/usr/bin/env bash
# Pickle safety on a terminal (issue 4): without --trust-pickle, edgeship asks when stdin and stderr
# are TTYs; "y" loads the pickle, anything else refuses (exit 1, no output). script(1) provides the pty.
#   framework_confirm.sh TOOL
set -uo pipefail
tool="$1"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$tmp/m.pkl" <<'PY' || exit 1
import pickle, sys
import numpy as np
from sklearn.linear_model import Ridge
X = np.arange(12, dtype=float).reshape(6, 2)
pickle.dump(Ridge().fit(X, X[:, 0]), open(sys.argv[1], "wb"))
PY
run() { # answer, output file
  (sleep 2; printf '%s\n' "$1") | timeout 120 script -qec "'$tool' convert '$tmp/m.pkl' -o '$2' --python /usr/bin/python3" /dev/null
}
out="$(run y "$tmp/yes.onnx")"; code=$?
[[ $code == 0 && -s "$tmp/yes.onnx" ]] || { echo "FAIL: answering y: exit $code"; echo "$out"; exit 1; }
grep -q "Load it? Only if you trust its source. \[y/N\]" <<<"$out" || { echo "FAIL: no prompt"; echo "$out"; exit 1; }
out="$(run n "$tmp/no.onnx")"; code=$?
[[ $code == 1 && ! -e "$tmp/no.onnx" ]] || { echo "FAIL: answering n: exit $code"; echo "$out"; exit 1; }
grep -q "edgeship: error: refusing to load" <<<"$out" || { echo "FAIL: no refusal"; echo "$out"; exit 1; }
# Not a terminal: no prompt, refused.
"$tool" convert "$tmp/m.pkl" -o "$tmp/pipe.onnx" --python /usr/bin/python3 </dev/null >/dev/null 2>"$tmp/err"; code=$?
[[ $code == 1 && ! -e "$tmp/pipe.onnx" ]] && ! grep -q "Load it?" "$tmp/err" || { echo "FAIL: without a TTY"; cat "$tmp/err"; exit 1; }
echo "ok: y loads, n refuses, no TTY refuses without asking"
