#!/usr/bin/env bash
# Regenerates every committed test fixture and reference value (npm run fixtures).
# Needs Debian's python3 with numpy, scipy, scikit-image, scikit-learn, Pillow,
# tifffile, openslide and torch, plus the vips CLI, and ../shared/data for the
# real-slide references. Each generator documents its outputs in its header.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=/usr/bin/python3
$PY scripts/make_slide_fixtures.py
$PY scripts/make_ndpi_reference.py
$PY scripts/make_viewer_fixtures.py
$PY scripts/make_imaging_reference.py
$PY scripts/make_analysis_reference.py
$PY scripts/make_nuclei_reference.py
$PY scripts/make_stain_reference.py
$PY scripts/cish_torch_equivalence.py preprocess
$PY scripts/make-e2e-reference.py
$PY scripts/make_nuclei_e2e_reference.py
$PY scripts/make_classifier_loss_fixtures.py
$PY scripts/make_classification_metrics_fixtures.py
$PY scripts/make_augment_fixtures.py
CLI_WRITE_FIXTURES=1 npx vitest run src/cli/tiff-writer.test.ts
$PY scripts/make_cli_fixtures.py
echo "fixtures regenerated; review with git diff --stat tests/fixtures"
