#!/usr/bin/python3
"""Reference checks for the CISH autoencoder (src/models/cish) against
trusted Python implementations. Run with Debian's python (torch, numpy,
scipy, scikit-image):

  /usr/bin/python3 scripts/cish_torch_equivalence.py            # PyTorch equivalence
  /usr/bin/python3 scripts/cish_torch_equivalence.py preprocess # write preprocessing references

1. PyTorch equivalence (default). Rebuilds the seed's network in PyTorch
   (NCHW, conv -> ReLU -> max-pool, flatten C×H×W, Linear + LeakyReLU(0.01),
   unflatten, ConvTranspose2d with kernel = stride) and loads the weights that
   the TF.js model exported to tests/fixtures/cish/model (standard TF.js
   layers format: model.json + weights.bin). It then encodes the committed
   tiles and compares with the latent codes TF.js produced (outputs.json),
   and decodes the first codes and compares with reconstructions.f32.
   Layout conversions:
     Conv2D kernel        TF.js [kh, kw, in, out]  -> torch [out, in, kh, kw]
     Conv2DTranspose      TF.js [kh, kw, out, in]  -> torch [in, out, kh, kw]
     Dense kernel         TF.js [in, out]          -> torch [out, in]
     Flatten order        TF.js flattens H×W×C, torch C×H×W: the columns of the
                          first encoder Linear and the rows (and bias) of the
                          last decoder Linear are permuted accordingly.
   The fixtures are written by
     CISH_WRITE_FIXTURES=1 npx vitest run src/models/cish/torch-fixtures.test.ts

   The network itself is defined once, in bench/cish_torch.py; `npm run
   bench` times it against the TF.js model (bench/models_reference.py).

2. `preprocess` writes tests/fixtures/cish/preprocess.json: a small random
   RGB tile and its grey level (skimage rgb2gray), median (scipy), resizes
   (skimage resize order=1, edge, no anti-aliasing), optical density and
   percentile stretch (numpy), used by src/models/cish/preprocess.test.ts.
"""
import json
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'bench'))
from cish_torch import build_cish_autoencoder  # noqa: E402
FIXTURES = os.path.join(ROOT, 'tests', 'fixtures', 'cish')
TOLERANCE = 1e-4


def load_tfjs_weights(model_dir):
    with open(os.path.join(model_dir, 'model.json')) as f:
        model_json = json.load(f)
    weights = {}
    for group in model_json['weightsManifest']:
        data = b''.join(open(os.path.join(model_dir, p), 'rb').read() for p in group['paths'])
        offset = 0
        for spec in group['weights']:
            assert spec['dtype'] == 'float32', spec
            count = int(np.prod(spec['shape'])) if spec['shape'] else 1
            arr = np.frombuffer(data, dtype='<f4', count=count, offset=offset).reshape(spec['shape'])
            weights[spec['name']] = arr.copy()
            offset += count * 4
    return model_json, weights


def input_standardisation(model_json):
    """(scale, offset) of the encoder's fixed Rescaling layer; identity for models saved before it existed."""
    layers = model_json['modelTopology']['config']['layers']
    for layer in layers:
        if layer['class_name'] == 'Rescaling':
            return float(layer['config']['scale']), float(layer['config']['offset'])
    return 1.0, 0.0


def assign(param, array, torch):
    array = np.ascontiguousarray(array, dtype=np.float32)
    assert tuple(param.shape) == array.shape, (tuple(param.shape), array.shape)
    with torch.no_grad():
        param.copy_(torch.from_numpy(array))


def load_into_torch(model, weights, side, torch):
    w = lambda layer, kind: weights[f'{layer}/{kind}']
    convs = [m for m in model.encoder if isinstance(m, torch.nn.Conv2d)]
    for i, conv in enumerate(convs):
        assign(conv.weight, w(f'enc_conv{i + 1}', 'kernel').transpose(3, 2, 0, 1), torch)
        assign(conv.bias, w(f'enc_conv{i + 1}', 'bias'), torch)
    enc_linear = [m for m in model.encoder if isinstance(m, torch.nn.Linear)]
    names = ['enc_dense1', 'enc_dense2', 'enc_latent']
    for i, (lin, name) in enumerate(zip(enc_linear, names)):
        k = w(name, 'kernel')
        if i == 0:
            # Rows of the TF.js kernel follow (h, w, c); torch's flatten gives (c, h, w).
            k = k.reshape(side, side, 32, -1).transpose(2, 0, 1, 3).reshape(side * side * 32, -1)
        assign(lin.weight, k.T, torch)
        assign(lin.bias, w(name, 'bias'), torch)
    dec_linear = [m for m in model.decoder if isinstance(m, torch.nn.Linear)]
    for i, (lin, name) in enumerate(zip(dec_linear, ['dec_dense1', 'dec_dense2', 'dec_dense3'])):
        k, b = w(name, 'kernel'), w(name, 'bias')
        if i == 2:
            # Columns (outputs) are reshaped to (h, w, c) by TF.js, to (c, h, w) by torch.
            k = k.reshape(-1, side, side, 32).transpose(0, 3, 1, 2).reshape(k.shape[0], -1)
            b = b.reshape(side, side, 32).transpose(2, 0, 1).reshape(-1)
        assign(lin.weight, k.T, torch)
        assign(lin.bias, b, torch)
    deconvs = [m for m in model.decoder if isinstance(m, torch.nn.ConvTranspose2d)]
    for i, deconv in enumerate(deconvs):
        assign(deconv.weight, w(f'dec_deconv{i + 1}', 'kernel').transpose(3, 2, 0, 1), torch)
        assign(deconv.bias, w(f'dec_deconv{i + 1}', 'bias'), torch)
    loaded = sum(p.numel() for p in model.parameters())
    exported = sum(a.size for a in weights.values())
    assert loaded == exported, (loaded, exported)
    return loaded


def torch_equivalence():
    import torch
    torch.set_num_threads(2)
    model_json, weights = load_tfjs_weights(os.path.join(FIXTURES, 'model'))
    scale, offset = input_standardisation(model_json)
    with open(os.path.join(FIXTURES, 'outputs.json')) as f:
        outputs = json.load(f)
    n, size, _, _ = outputs['tileShape']
    latent_dim = outputs['latentDim']
    model = build_cish_autoencoder(torch, latent_dim, size).eval()
    count = load_into_torch(model, weights, size // 60, torch)

    tiles = np.fromfile(os.path.join(FIXTURES, 'tiles.u8'), dtype=np.uint8).reshape(n, 1, size, size)
    x = torch.from_numpy(tiles.astype(np.float32) / np.float32(255))
    with torch.no_grad():
        codes = model.encoder(x * scale + offset).numpy()
        rn = outputs['reconstructionShape'][0]
        recon = model.decoder(torch.from_numpy(np.array(outputs['latent'][:rn], dtype=np.float32))).numpy()
    tfjs_codes = np.array(outputs['latent'], dtype=np.float32)
    tfjs_recon = np.fromfile(os.path.join(FIXTURES, 'reconstructions.f32'), dtype='<f4').reshape(outputs['reconstructionShape'])
    tfjs_recon = tfjs_recon.transpose(0, 3, 1, 2)  # NHWC -> NCHW
    code_diff = float(np.abs(codes - tfjs_codes).max())
    recon_diff = float(np.abs(recon - tfjs_recon).max())
    print(f'parameters loaded into PyTorch: {count}')
    print('latent codes, PyTorch:')
    for row in codes:
        print('  ' + '  '.join(f'{v: .8f}' for v in row))
    print(f'max |latent_torch - latent_tfjs| = {code_diff:.3e}  (tolerance {TOLERANCE:g})')
    print(f'max |recon_torch - recon_tfjs|   = {recon_diff:.3e}  (tolerance {TOLERANCE:g})')
    ok = code_diff <= TOLERANCE and recon_diff <= TOLERANCE
    print('PASS' if ok else 'FAIL')
    return 0 if ok else 1


def preprocess_fixtures():
    from scipy import ndimage
    from skimage.color import rgb2gray
    from skimage.transform import resize

    rng = np.random.default_rng(20240601)
    h, w = 23, 31
    rgb = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    gray = rgb2gray(rgb)
    median = ndimage.median_filter(gray, size=3, mode='nearest')
    up = resize(gray, (40, 50), order=1, mode='edge', anti_aliasing=False)
    down = resize(gray, (12, 9), order=1, mode='edge', anti_aliasing=False)
    od = -np.log10(np.maximum(gray, 1 / 255)) / np.log10(255)
    lo, hi = np.percentile(gray, [1, 99])
    stretched = np.clip((gray - lo) / (hi - lo), 0, 1)
    # The whole pipeline: grey -> median r=1 -> resize 30x30 -> OD -> 2..98 percentile stretch.
    pipe = resize(median, (30, 30), order=1, mode='edge', anti_aliasing=False)
    pipe = -np.log10(np.maximum(pipe, 1 / 255)) / np.log10(255)
    plo, phi = np.percentile(pipe, [2, 98])
    pipe = np.clip((pipe - plo) / (phi - plo), 0, 1)

    def flat(a):
        return [round(float(v), 9) for v in np.asarray(a).ravel()]

    doc = {
        'generator': 'scripts/cish_torch_equivalence.py preprocess',
        'width': w, 'height': h,
        'rgb': [int(v) for v in rgb.ravel()],
        'gray': flat(gray),
        'median3': flat(median),
        'resizeUp': {'width': 50, 'height': 40, 'values': flat(up)},
        'resizeDown': {'width': 9, 'height': 12, 'values': flat(down)},
        'od': flat(od),
        'stretch1to99': flat(stretched),
        'pipeline': {'size': 30, 'median': 1, 'mode': 'od', 'contrast': [2, 98], 'values': flat(pipe)},
    }
    os.makedirs(FIXTURES, exist_ok=True)
    path = os.path.join(FIXTURES, 'preprocess.json')
    with open(path, 'w') as f:
        json.dump(doc, f)
    print(f'wrote {path}')
    return 0


if __name__ == '__main__':
    command = sys.argv[1] if len(sys.argv) > 1 else 'torch'
    commands = {'preprocess': preprocess_fixtures, 'torch': torch_equivalence}
    sys.exit(commands[command]())
