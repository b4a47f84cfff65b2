#!/usr/bin/env bash
# CPU-sized comparison of the second paper's tricks on CIFAR-100 (CORnet-Z, decoder head,
# 5,000 training / 2,000 test images, 4 epochs, Adam lr 1e-3 (SGD at lr 0.05 is still at
# 1.9 % after 4 epochs here, Adam at 4.8 % after 2), no teacher): each variant file here
# trained with the same seed(s), evaluated clean and under PGD-10 L∞ 2/255 and 4/255 on 500
# test images, and scored on the held-out V1 pairs (`brainlike score`, 200 bootstrap draws).
#
#   experiments/tricks/run_cpu.sh OUT_DIR "clean heavy_aug cutmix fcutmix" "0"
#   experiments/tricks/run_cpu.sh OUT_DIR "clean fgsm_rs pgd3" "0 1 2"
set -euo pipefail
out=${1:?OUT_DIR}; variants=${2:-"clean heavy_aug cutmix fcutmix fgsm_rs pgd3"}; seeds=${3:-0}
here=$(cd "$(dirname "$0")" && pwd)
bin=${BRAINLIKE:-$here/../../target/release/brainlike}
data=${BRAINLIKE_DATA:-$here/../../../shared/data}
mkdir -p "$out"
for v in $variants; do
  for s in $seeds; do
    run="$out/$v-s$s"
    if [ ! -f "$run/summary.json" ]; then
      resume=(); [ -f "$run/config.toml" ] && resume=(--resume "$run")
      "$bin" train --config "$here/$v.toml" --data-dir "$data" --out-dir "$run" --quiet "${resume[@]}" \
        --set seed="$s" --set model.head='"decoder"' --set optim.optimizer='"adam"' --set optim.lr=0.001 --set optim.momentum=0.0 --set optim.epochs=4 \
        --set optim.batch_size=128 --set data.train_limit=5000 --set data.test_limit=2000 \
        --set teacher.ratio=0.0 >/dev/null
    fi
    [ -f "$run/robustness.csv" ] || "$bin" evaluate --run "$run" --data-dir "$data" \
      --attack linf:2/255:10 --attack linf:4/255:10 --attack-images 500 >/dev/null
    [ -f "$out/scores-$v-s$s/scores.csv" ] || "$bin" score --model "$run" --bootstrap 200 \
      --out "$out/scores-$v-s$s" >/dev/null
  done
done
echo "variant,seed,test_acc,robust_2/255,robust_4/255,epoch_seconds,v1_heldout,v2_heldout,v4_heldout,it_heldout"
for v in $variants; do
  for s in $seeds; do
    run="$out/$v-s$s"
    acc=$(python3 -c "import json;print(round(json.load(open('$run/summary.json'))['final_test_acc'],4))")
    rob=$(awk -F, 'NR>1{printf "%s,", $9}' "$run/robustness.csv")
    secs=$(awk -F, 'NR>1{s+=$10;n++}END{printf "%.1f", s/n}' "$run/metrics.csv")
    v1=$(awk -F, 'NR>1{printf "%s,", $4}' "$out/scores-$v-s$s/scores.csv")
    echo "$v,$s,$acc,$rob$secs,${v1%,}"
  done
done
