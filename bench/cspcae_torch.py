#!/usr/bin/python3
"""The crosswise-sparse CAE of src/models/nuclei/model.ts in PyTorch (NCHW),
for the model benchmark (bench/models_reference.py) and the parameter-count
check (src/models/nuclei/torch-count.test.ts).

Layer lists per part follow CSP_CAE_TABLES in model.ts (seed 001, Tables
1-2); widths scale by the preset (round(full x width), at least 1) except the
fixed ones (D' 1 channel, the 5-channel background code, the 3-channel
images). Every conv / transposed conv pads 'same' and has no bias, and is
followed by batch norm (eps 1e-3, PyTorch momentum 0.1 = tfjs 0.9) and
LeakyReLU(0.01); D' gets batch norm only; the decoders' last 1x1 transposed
convs are linear with a bias. The threshold D = sigmoid(20 (D' - t)) keeps t
as a buffer: in training, before D is computed, t <- 0.9 t + 0.1 mean_b q_b
with q_b the (100 - 1.6)-th percentile of image b's D' (linear interpolation,
as numpy.percentile and torch.quantile). X = X' * D; reconstruction =
foreground decoder(X) + background decoder(code).

One difference that does not touch the cost: PyTorch's batch norm updates
its running variance with the unbiased batch variance, tfjs-layers with the
biased one (a factor n/(n-1), n = batch x height x width >= 800 here).

  /usr/bin/python3 bench/cspcae_torch.py --count [--preset NAME ...]

prints, per preset, a JSON line with the trainable parameters, the buffers
(batch norm's running statistics and t), their sum (what TF.js's
countParams() counts) and the forward FLOPs per 100 px patch measured on the
module shapes (2 x multiply-adds of the convs, as cspCaeForwardFlops).
"""
import argparse
import json
import math
import sys
from timing import time_runs

PRESETS = {'paper': 1.0, 'quarter': 1 / 4, 'eighth': 1 / 8, 'sixteenth': 1 / 16}

# (kind, kernel, full-width channels, stride, fixed, after); 'pool' rows use kernel only.
# after: 'bn-leaky' (default), 'bn' (batch norm only) or 'linear' (bias, no batch norm).


def _conv(kernel, filters, fixed=False, after='bn-leaky'):
    return ('conv', kernel, filters, 1, fixed, after)


def _deconv(kernel, filters, stride=1, fixed=False, after='bn-leaky'):
    return ('deconv', kernel, filters, stride, fixed, after)


def _pool(size):
    return ('pool', size, None, size, False, None)


TABLES = {
    'part1': [_conv(5, 100), _conv(5, 120), _pool(2), _conv(3, 240), _conv(3, 320), _pool(2), _conv(3, 640), _conv(3, 1024)],
    'part2': [_conv(1, 100), _conv(1, 1, fixed=True, after='bn')],
    'part3': [_conv(1, 640), _conv(1, 100)],
    'part4': [_conv(1, 128), _pool(5), _conv(3, 64), _conv(1, 5, fixed=True)],
    'part7': [_deconv(3, 1024), _deconv(3, 640), _deconv(4, 640, 2), _deconv(3, 320), _deconv(3, 320), _deconv(4, 320, 2),
              _deconv(5, 120), _deconv(5, 100), _deconv(1, 3, fixed=True, after='linear')],
    'part8': [_deconv(3, 256), _deconv(3, 128), _deconv(9, 128, 5), _deconv(3, 128), _deconv(3, 128), _deconv(4, 128, 2),
              _deconv(3, 64), _deconv(3, 64), _deconv(4, 64, 2), _deconv(5, 32), _deconv(5, 32),
              _deconv(1, 3, fixed=True, after='linear')],
}

BN_EPS = 1e-3
BN_MOMENTUM = 0.1  # PyTorch's weight of the new batch; tfjs-layers' momentum 0.9 is the old value's weight
LEAKY_SLOPE = 0.01
SLOPE, SPARSITY_PERCENT, THRESHOLD_MOMENTUM = 20.0, 1.6, 0.1


def channels(filters, fixed, width):
    # Math.round in model.ts rounds halves up (100 / 8 = 12.5 -> 13); Python's round() would give 12.
    return filters if fixed else max(1, math.floor(filters * width + 0.5))


def _same_padding(kind, kernel, stride):
    """Symmetric padding that gives TF's 'same' output size (side for convs, side x stride for deconvs)."""
    if kind == 'conv':
        if kernel % 2 == 0:
            raise ValueError('even conv kernels would pad asymmetrically')
        return kernel // 2
    total = kernel - stride  # TF pads the equivalent forward conv by max(k - s, 0)
    if total < 0 or total % 2:
        raise ValueError(f'deconv k={kernel} s={stride} would pad asymmetrically')
    return total // 2


def build_csp_cae(torch, preset='sixteenth'):
    """The autoencoder; forward(x) returns the reconstruction, inspect(x) (D, X', foreground, background, reconstruction)."""
    nn = torch.nn
    width = PRESETS[preset]

    def stack(part, cin):
        layers = []
        for kind, kernel, filters, stride, fixed, after in TABLES[part]:
            if kind == 'pool':
                layers.append(nn.AvgPool2d(kernel, stride))
                continue
            cout = channels(filters, fixed, width)
            pad = _same_padding(kind, kernel, stride)
            bias = after == 'linear'
            if kind == 'conv':
                layer = nn.Conv2d(cin, cout, kernel, padding=pad, bias=bias)
            else:
                layer = nn.ConvTranspose2d(cin, cout, kernel, stride=stride, padding=pad, bias=bias)
            # tfjs's defaults: Glorot-uniform kernels (the fan sum is the same for both layouts), zero biases.
            nn.init.xavier_uniform_(layer.weight)
            if bias:
                nn.init.zeros_(layer.bias)
            layers.append(layer)
            if after != 'linear':
                layers.append(nn.BatchNorm2d(cout, eps=BN_EPS, momentum=BN_MOMENTUM))
            if after == 'bn-leaky':
                layers.append(nn.LeakyReLU(LEAKY_SLOPE))
            cin = cout
        return nn.Sequential(*layers), cin

    class SparsityThreshold(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer('t', torch.zeros(()))

        def forward(self, d_raw):
            if self.training:
                with torch.no_grad():
                    q = torch.quantile(d_raw.detach().flatten(1), 1 - SPARSITY_PERCENT / 100, dim=1, interpolation='linear')
                    self.t.mul_(1 - THRESHOLD_MOMENTUM).add_(THRESHOLD_MOMENTUM * q.mean())
            return torch.sigmoid(SLOPE * (d_raw - self.t))

    class CspCae(nn.Module):
        def __init__(self):
            super().__init__()
            self.part1, shared = stack('part1', 3)
            self.part2, _ = stack('part2', shared)
            self.part3, features = stack('part3', shared)
            self.part4, code = stack('part4', shared)
            self.threshold = SparsityThreshold()
            self.part7, _ = stack('part7', features)
            self.part8, _ = stack('part8', code)

        def inspect(self, x):
            shared = self.part1(x)
            d = self.threshold(self.part2(shared))
            features = self.part3(shared)
            foreground = self.part7(features * d)  # D has one channel: broadcast over X'
            background = self.part8(self.part4(shared))
            return d, features, foreground, background, foreground + background

        def forward(self, x):
            return self.inspect(x)[-1]

    return CspCae()


def count(torch, model):
    """Trainable parameters, buffers (running statistics, t) and their sum, which is what TF.js's countParams() counts."""
    parameters = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for name, b in model.named_buffers() if not name.endswith('num_batches_tracked'))
    return {'parameters': parameters, 'buffers': buffers, 'tfjs_count': parameters + buffers}


def forward_flops(torch, model, size=100):
    """2 x multiply-adds of every (transposed) conv on one patch, from the shapes a forward pass sees."""
    nn = torch.nn
    macs = [0]

    def hook(module, inputs, output):
        k = module.kernel_size[0] * module.kernel_size[1]
        pixels = output.shape[-2] * output.shape[-1] if isinstance(module, nn.Conv2d) else inputs[0].shape[-2] * inputs[0].shape[-1]
        macs[0] += pixels * k * module.in_channels * module.out_channels

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    model.eval()
    with torch.no_grad():
        out = model(torch.zeros(1, 3, size, size))
    for h in handles:
        h.remove()
    if tuple(out.shape) != (1, 3, size, size):
        raise AssertionError(f'reconstruction shape {tuple(out.shape)}')
    return 2 * macs[0]


def time_training_and_inference(torch, preset='sixteenth', batch=32, size=100, warmup=1, runs=3):
    """Milliseconds per SGD-momentum (0.03, 0.9) RMSE training step and per inference batch (eval, no_grad, full forward)."""
    torch.manual_seed(0)
    model = build_csp_cae(torch, preset)
    x = torch.rand(batch, 3, size, size)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.03, momentum=0.9)

    def train_step():
        model.train()
        optimizer.zero_grad()
        loss = torch.sqrt(torch.nn.functional.mse_loss(model(x), x))
        loss.backward()
        optimizer.step()

    def inference_batch():
        model.eval()
        with torch.no_grad():
            model.inspect(x)

    def timed(fn):
        return time_runs(fn, runs, warmup)

    result = {'train_step_ms': timed(train_step), 'inference_batch_ms': timed(inference_batch)}
    return {**result, **count(torch, model), 'forward_flops': forward_flops(torch, model, size)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--count', action='store_true', help='print parameter counts and forward FLOPs per preset')
    parser.add_argument('--preset', nargs='*', choices=list(PRESETS), default=list(PRESETS))
    args = parser.parse_args()
    if not args.count:
        parser.error('nothing to do (use --count; timings are in bench/models_reference.py)')
    import torch
    torch.set_num_threads(1)
    for preset in args.preset:
        model = build_csp_cae(torch, preset)
        print(json.dumps({'preset': preset, **count(torch, model), 'forward_flops': forward_flops(torch, model)}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
