#!/usr/bin/env bash
# A tour of bad inputs through the real binary: each line runs one command a user might get
# wrong and records its exit status and the first lines of what it prints on stderr, as a
# Markdown table (docs/bad-inputs.md is this script's output).
#
#   tests/bad_inputs/tour.sh [BIN] [DATA_DIR] > docs/bad-inputs.md
#
# BIN defaults to target/release/brainlike; DATA_DIR to $BRAINLIKE_TEST_DATA or ../shared/data
# (CIFAR-100's official binary archive). It trains a few tiny runs (about 2-4 minutes on 2 cores).
set -u
BIN=${1:-target/release/brainlike}
DATA=${2:-${BRAINLIKE_TEST_DATA:-../shared/data}}
BIN=$(realpath "$BIN"); DATA=$(realpath "$DATA")
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
unset BRAINLIKE_DATA
TINY=(--device flex --offline --data-dir "$DATA" --set data.train_limit=128 --set data.test_limit=64
      --set optim.batch_size=64 --set model.head=decoder)
N=0

# try "what the user did" command...   (run in $T; the table gets its exit code and message)
try() {
    local what=$1; shift
    N=$((N + 1))
    local err rc
    err=$(cd "$T" && timeout 600 "$@" 2>&1 >/dev/null); rc=$?
    # The message: the lines that carry it (not progress or the header), first 3, one line.
    local msg
    msg=$(printf '%s\n' "$err" | grep -v -E '^(training |epoch [0-9]+/)' \
          | grep -E 'error|Error|warning|note|refus|must|cannot|not |no |expected|diverged|lock' \
          | head -3 | tr '\n' ' ' | sed -e "s#$T#\$T#g" -e "s#$DATA#\$DATA#g" -e 's/|/\\|/g' | cut -c1-420)
    [ -z "$msg" ] && msg=$(printf '%s\n' "$err" | tail -2 | tr '\n' ' ' | sed -e "s#$T#\$T#g" -e 's/|/\\|/g' | cut -c1-300)
    printf '| %d | %s | %s | %s |\n' "$N" "$what" "$rc" "$msg"
}

echo "# What bad input gives: the messages users see"
echo
echo "Made by \`tests/bad_inputs/tour.sh\` with \`$(basename "$BIN") $("$BIN" --version | cut -d' ' -f2)\` on $(date -u +%Y-%m-%d)."
echo "Each row is one command run on the real binary; \`\$T\` is a scratch folder, \`\$DATA\` the data folder."
echo "Exit 0 rows are accepted on purpose (the message says what was done instead)."
echo
echo "| # | input | exit | what the user sees (stderr, first lines) |"
echo "|---|---|---|---|"

# A good tiny run to damage, resume and score.
(cd "$T" && "$BIN" train --out-dir good "${TINY[@]}" --set optim.epochs=1 >/dev/null 2>&1) \
    || { echo "the good tiny run failed"; exit 1; }

## Configuration values
for kv in optim.epochs=0 teacher.ratio=nan optim.lr=inf optim.lr=-0.1 optim.momentum=-1 \
          optim.weight_decay=nan teacher.epochs=-1 data.input_size=20000 data.input_size=0 \
          threads=100000 optim.batch_size=0 teacher.pairs_per_step=0 seed=-1 \
          data.label_corruption=1.5 model.dropout=1.0 checkpoint.every_minutes=-1 \
          checkpoint.within_epoch_minutes=nan averaging.ema_decay=2 optim.freeze_fraction=2 \
          adversarial.eps=-1 teacher.holdout_fraction=1; do
    try "\`--set $kv\`" "$BIN" train --out-dir "r$N" "${TINY[@]}" --set "$kv"
done
try "unknown key \`--set optim.lrr=0.1\`" "$BIN" train --out-dir "x$N" "${TINY[@]}" --set optim.lrr=0.1
try "wrong type \`--set optim.lr='\"fast\"'\`" "$BIN" train --out-dir "x$N" "${TINY[@]}" --set 'optim.lr="fast"'
try "unknown model \`--set model.arch='\"resnet51\"'\`" "$BIN" train --out-dir "x$N" "${TINY[@]}" --set 'model.arch="resnet51"'
try "tap of another model \`--set teacher.layer='\"conv3\"'\`" "$BIN" train --out-dir "x$N" "${TINY[@]}" --set 'teacher.layer="conv3"'
try "mid-epoch checkpoints with free adversarial training" "$BIN" train --out-dir "x$N" "${TINY[@]}" \
    --set checkpoint.every_steps=1 --set 'adversarial.method="free"'
printf '[optim\nlr = 0.1\n' > "$T/syntax.toml"
try "config file with a TOML syntax error" "$BIN" train --config syntax.toml --out-dir "x$N" "${TINY[@]}"
try "config file that does not exist" "$BIN" train --config nowhere.toml --out-dir "x$N" "${TINY[@]}"

## Data
try "\`--data-dir\` that does not exist, \`--offline\`" "$BIN" train --out-dir "x$N" --offline --data-dir "$T/nodata" --set optim.epochs=1
try "\`--data-dir\` that does not exist, online (no network here)" "$BIN" train --out-dir "x$N" --data-dir "$T/nodata2" --set optim.epochs=1
mkdir -p "$T/trunc/cifar-100-binary"
tar -xzf "$DATA/cifar-100-binary.tar.gz" -C "$T/trunc" cifar-100-binary/test.bin cifar-100-binary/train.bin cifar-100-binary/fine_label_names.txt cifar-100-binary/coarse_label_names.txt 2>/dev/null
truncate -s 1000000 "$T/trunc/cifar-100-binary/test.bin"
try "truncated CIFAR-100 \`test.bin\`" "$BIN" train --out-dir "x$N" --offline --data-dir "$T/trunc" --set optim.epochs=1
printf 'image_a\timage_b\tcosine_distance\n1\t2\t5.0\n3\t4\t7.5\n' > "$T/far.tsv"
try "teacher pair distances outside [0, 2]" "$BIN" train --out-dir "x$N" "${TINY[@]}" --set "teacher.pairs=\"$T/far.tsv\""
printf 'image_a\timage_b\tcosine_distance\n1\t2\n' > "$T/short.tsv"
try "teacher pair file with a short record" "$BIN" train --out-dir "x$N" "${TINY[@]}" --set "teacher.pairs=\"$T/short.tsv\""
mkdir -p "$T/folder/train/cat" "$T/folder/val/cat"
printf 'not a jpeg' > "$T/folder/train/cat/broken.jpg"; cp "$T/folder/train/cat/broken.jpg" "$T/folder/val/cat/"
try "image folder with a corrupt JPEG" "$BIN" train --out-dir "x$N" --device flex --set 'data.format="image_folder"' \
    --set "data.dir=\"$T/folder\"" --set optim.epochs=1 --set teacher.ratio=0

## Run directories
touch "$T/afile"
try "\`--out-dir\` that is a file" "$BIN" train --out-dir afile "${TINY[@]}"
try "train again into a finished run (no \`--resume\`)" "$BIN" train --out-dir good "${TINY[@]}" --set optim.epochs=1
try "\`--resume\` a directory with no run" "$BIN" train --resume nothing-here --offline
try "\`--resume\` a finished run" "$BIN" train --resume good --offline --data-dir "$DATA"
try "\`--resume\` with another learning rate" "$BIN" train --resume good --offline --data-dir "$DATA" --set optim.lr=0.5
try "\`--resume\` switching mid-epoch checkpoints on" "$BIN" train --resume good --offline --data-dir "$DATA" \
    --set optim.epochs=2 --set checkpoint.every_steps=1
cp -r "$T/good" "$T/badcfg"; echo 'optim = [' >> "$T/badcfg/config.toml"
try "\`--resume\` with a damaged \`config.toml\`" "$BIN" train --resume badcfg --offline --data-dir "$DATA" --set optim.epochs=2
cp -r "$T/good" "$T/flipped"
python3 - "$T/flipped/checkpoints/epoch-0001/model.bpk" <<'PY' 2>/dev/null || dd if=/dev/urandom of="$T/flipped/checkpoints/epoch-0001/model.bpk" bs=1 count=1000 seek=2000 conv=notrunc 2>/dev/null
import sys; p = sys.argv[1]; b = bytearray(open(p, 'rb').read()); m = len(b) // 2
for i in range(m, m + 1000): b[i] ^= 0xFF
open(p, 'wb').write(bytes(b))
PY
try "\`--resume\` with 1,000 flipped bytes in the only checkpoint" "$BIN" train --resume flipped --offline --data-dir "$DATA" --set optim.epochs=2
try "32 test images (too few for t-SNE): accepted" "$BIN" train --out-dir "x$N" "${TINY[@]}" --set data.test_limit=32 --set optim.epochs=1
try "a learning rate that diverges (\`--set optim.lr=1e10\`)" "$BIN" train --out-dir "x$N" "${TINY[@]}" --set optim.lr=1e10 --set optim.epochs=2
(cd "$T" && "$BIN" train --out-dir good2 "${TINY[@]}" --set optim.epochs=2 >/dev/null 2>&1)
python3 - "$T/good2/checkpoints/epoch-0002/model.bpk" <<'PY'
import sys; p = sys.argv[1]; b = bytearray(open(p, 'rb').read()); m = len(b) // 2
for i in range(m, m + 1000): b[i] ^= 0xFF
open(p, 'wb').write(bytes(b))
PY
try "\`--resume\` (to 3 epochs) with the newest of two checkpoints damaged: accepted" "$BIN" train --resume good2 --offline --data-dir "$DATA" --set optim.epochs=3
(cd "$T" && "$BIN" train --out-dir busy "${TINY[@]}" --set optim.epochs=50 >/dev/null 2>&1 &)
for _ in $(seq 100); do [ -f "$T/busy/config.toml" ] && break; sleep 0.2; done
try "a second \`train\` on a run that is training" "$BIN" train --out-dir busy "${TINY[@]}" --set optim.epochs=50 --set seed=2
try "\`--resume\` a run that is still training" "$BIN" train --resume busy --offline --data-dir "$DATA"
pkill -f "out-dir busy" 2>/dev/null

## Weights and scoring
cp -r "$T/good" "$T/other"; sed -i 's/head = "decoder"/head = "fc4096"/' "$T/other/config.toml"
try "\`evaluate\` weights of another model" "$BIN" evaluate --run other --data-dir "$DATA"
head -c 5000 "$T/good/weights.safetensors" > "$T/trunc.safetensors"
try "\`--init\` a truncated weights file" "$BIN" train --out-dir "x$N" "${TINY[@]}" --init trunc.safetensors
try "\`--init\` a file that does not exist" "$BIN" train --out-dir "x$N" "${TINY[@]}" --init none.safetensors
try "\`score --size 0\`" "$BIN" score --model good --size 0
try "\`score --threads 100000\`" "$BIN" score --model good --threads 100000
try "\`score --chunk 0\`" "$BIN" score --model good --chunk 0
try "\`evaluate --threads 100000\`" "$BIN" evaluate --run good --threads 100000
mkdir -p "$T/partial"; cp "$T/good/config.toml" "$T/partial/"
try "\`evaluate\` a run with no weights" "$BIN" evaluate --run partial --data-dir "$DATA"
python3 -c "import numpy as np; np.save('$T/wrong.npy', np.zeros((2, 5), np.float32))" 2>/dev/null \
  || printf "\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2, 5), }                                           \n" > "$T/wrong.npy"
try "\`extract --inputs\` a 2-D array" "$BIN" extract --model cornet_z --weights good/weights.safetensors --inputs wrong.npy --layers v1 --out ex
try "\`rdm\` of a file that is not .npy" "$BIN" rdm --method cosine --out r.npy afile

## Sweeps and reports
printf 'name = "s"\nseeds = 1\n[axes]\nteacher.ratioo = [0.1]\n' > "$T/sweep.toml"
try "sweep file with an unknown key in its grid" "$BIN" sweep sweep.toml --dry-run
try "\`report\` of a folder that is not a sweep" "$BIN" report nothing-here
