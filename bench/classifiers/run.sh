#!/usr/bin/env bash
# Issue 6's accuracy measurements: 5-fold cross-validation (60/20/20) of
# Mobincep and OrgaNet on the project's labelled synthetic sets, on the wasm
# backend, and OrgaNet with 20 % of the labels against 80 % on the same test
# folds. Writes one JSON report per run into this folder; README.md quotes
# them. Slow on a CPU (about an hour per network and set on 2 cores); run the
# lines you need, or all with `bash bench/classifiers/run.sh`.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=bench/classifiers

# The recipe every run shares: width ¼, batch 16, learning rate 3e-3 (the
# seed's 1e-4 needs thousands of epochs), no augmentation, at most 12 epochs
# with early stopping after 4 without a better validation loss.
recipe=(--width 0.25 --batch 16 --learning-rate 3e-3 --no-augment --epochs 12 --patience 4 --quiet)

# Textures: 500 images per class of 48 px, fed to the networks at 96 px (resized, as the seed resizes every image to its input),
# each image standardised per channel (the runs were made before per-image standardisation became the default).
textures=(--synthetic textures --per-class 500 --image-size 48 --input-size 96 --normalisation channel)
npm run --silent cli -- cross-validate "${textures[@]}" "${recipe[@]}" --arch mobincep --out $out/textures-mobincep.json
npm run --silent cli -- cross-validate "${textures[@]}" "${recipe[@]}" --arch organet --out $out/textures-organet.json
# OrgaNet (DEC) with a quarter of each split's training and validation labels: 20 % of the data instead of 80 %.
npm run --silent cli -- cross-validate "${textures[@]}" "${recipe[@]}" --arch organet --label-fraction 0.25 --out $out/textures-organet-20pct.json

# FISH nuclei (non-MNA / MNA): 300 crops per class of 96 px, raw intensities (standardising erases the signal levels).
fish=(--synthetic fish --per-class 300 --image-size 96 --normalisation none)
npm run --silent cli -- cross-validate "${fish[@]}" "${recipe[@]}" --arch mobincep --out $out/fish-mobincep.json
npm run --silent cli -- cross-validate "${fish[@]}" "${recipe[@]}" --arch organet --out $out/fish-organet.json
