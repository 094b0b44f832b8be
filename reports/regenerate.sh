#!/usr/bin/env bash
# Regenerates every reference study in reports/ and the figures the README shows.
# Run from the repository root: reports/regenerate.sh   (under two minutes on two cores)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
tilesim=target/release/tilesim
fig=reports/figures
size=800x480

$tilesim sweep reports/partition-ratio.ron --force --quiet
for m in inference_samples_per_s learning_samples_per_s; do
    $tilesim plot reports/partition-ratio --x 'partitions[1].tiles' --y $m \
        --out $fig/partition-ratio-$m.svg --size $size --force
done

$tilesim sweep reports/repr-by-format.ron --force --quiet
for m in gradient_estimates_sqnr_db updated_weights_sqnr_db; do
    $tilesim plot reports/repr-by-format --x format --y $m --series accumulator \
        --out $fig/repr-by-format-$m.svg --size $size --force
done

$tilesim sweep reports/depth-fg-vs-bp.ron --force --quiet
for m in activation_tape_peak_bytes peak_l1_bytes_per_tile dram_bytes_read \
    learning_samples_per_s final_loss; do
    $tilesim plot reports/depth-fg-vs-bp --x repeat --y $m --series method \
        --out $fig/depth-fg-vs-bp-$m.svg --size $size --force
done
