#!/usr/bin/python3
"""The two few-label classifiers of seed 002 in PyTorch (NCHW), rebuilt by
hand from the layer tables of src/models/mobincep/architecture.ts and
src/models/organet/architecture.ts (torchvision is not used), for the model
benchmark (bench/models_reference.py) and the parameter-count check
(src/models/classifier/torch-count.test.ts).

Mobincep (224 x 224 x 3): buffer conv 3x3 stride 2 (32) -> inception module
at 112 px (1x1 32 | 1x1 48 -> 3x3 64 | 1x1 8 -> 5x5 16 | 3x3 average pool
stride 1 -> 1x1 16, concatenated in that order: 128) -> 13 depth-wise
separable convs (3x3 depth-wise, then 1x1 point-wise; strides 2 at the 1st,
3rd, 5th and 11th) -> global average pool (1024) -> linear -> logits. Every
conv has no bias and is followed by batch norm and ReLU, both halves of each
separable conv included.

OrgaNet (382 x 382 x 1): adaptation layer (34 px of zero padding on every
side, 3x3 conv stride 2 to 3 channels, batch norm, no activation: 224 x 224
x 3) -> MobileNet-v2 (stem 3x3 stride 2 (32), 17 inverted-residual blocks
(t, c, n, s) = (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,4,2) (6,96,3,1)
(6,160,3,2) (6,320,1,1), 1x1 conv to 1280) -> global average pool -> linear
latent (10) -> linear head -> logits. Batch norm and ReLU6 after every conv
except the projections (batch norm only); the residual is added where a
block keeps its shape.

Batch norm as in src/models/mobincep/layers.ts: eps 1e-5, PyTorch momentum
0.1 (= tfjs-layers' 0.9). Channels under a width multiplier as the TF.js
code computes them (Mobincep: round half up, at least 1; OrgaNet:
MobileNet-v2's rounding to multiples of 8).

Padding. TF's 'same' pads a stride-2 conv on an even side by one pixel at
the end only; here those convs pad one pixel on both sides, which gives the
same output size and cost (the sampling grid is shifted by one pixel). Every
other 'same' conv is symmetric in both. The 3x3 average pool of the
inception module leaves the padding out of the average, as TF's does
(count_include_pad=False).

Losses (the seed's, as src/models/*/losses.ts compute them):
- Mobincep: softmax cross-entropy + g1 / (sum_k |mu_k - mu|^2 + 1e-6) +
  g2 * sum_k s_k^2, g1 = g2 = 0.01, with mu_k the mean pooled feature of the
  batch's class k, mu the batch mean, s_k the sum of the distances of class
  k's features to mu_k (the separation term is 0 with fewer than 2 classes
  present). AMSGrad (torch.optim.Adam(amsgrad=True)), lr 1e-4, eps 1e-5.
- OrgaNet: softmax cross-entropy + MMD(latent, N(0, I) samples), Gaussian
  kernel exp(-|a - b|^2 / d^2) (2 sigma^2 = d^2), all pairs. Adam, lr 1e-4,
  eps 1e-7 (TF.js's default).

  /usr/bin/python3 bench/classifiers_torch.py --count [--model mobincep organet] [--classes 3] [--width 1]

prints, per network, a JSON line with the trainable parameters, the buffers
(batch norm's running statistics), their sum (what TF.js's countParams()
counts) and the forward FLOPs per image measured on the module shapes
(2 x multiply-adds of the convs and linear layers, as mobincepForwardFlops
and organetForwardFlops count them).
"""
import argparse
import json
import math
import sys
from timing import time_runs

BN_EPS = 1e-5
BN_MOMENTUM = 0.1

MOBINCEP = {
    'input_size': 224, 'channels': 3,
    'buffer': (3, 2, 32),  # kernel, stride, filters
    'inception': {'branch1': 32, 'branch3': (48, 64), 'branch5': (8, 16), 'pool': (3, 16)},
    # (filters, stride) of each depth-wise separable conv
    'separable': [(128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1), (512, 1),
                  (1024, 2), (1024, 1), (1024, 1)],
    'gamma1': 0.01, 'gamma2': 0.01, 'learning_rate': 1e-4, 'epsilon': 1e-5,
}

ORGANET = {
    'input_size': 382, 'channels': 1, 'adapted_size': 224, 'adapted_channels': 3, 'latent': 10,
    'stem': (3, 2, 32),
    # (expansion t, filters c, repeats n, stride s)
    'stages': [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)],
    'last': 1280,
    'gamma': 1.0, 'learning_rate': 1e-4, 'epsilon': 1e-7,
}

SEPARATION_EPSILON = 1e-6


def mobincep_channels(filters, width):
    """Math.max(1, Math.round(filters * width)): halves round up, as in JavaScript."""
    return max(1, math.floor(filters * width + 0.5))


def make_divisible(value, divisor=8):
    """MobileNet-v2's rounding, as makeDivisible in organet/architecture.ts."""
    rounded = max(divisor, math.floor(value + divisor / 2) - math.floor(value + divisor / 2) % divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def adaptation_geometry(input_size, adapted_size, kernel=3):
    """The smallest stride, then the least zero padding, that map input_size to adapted_size with a kernel x kernel conv."""
    stride = max(1, math.ceil((input_size - kernel + 1) / adapted_size))
    lowest = stride * (adapted_size - 1) + kernel - input_size
    highest = lowest + stride - 1
    total = max(0, lowest)
    if total % 2 == 1 and total + 1 <= highest:
        total += 1
    before = total // 2
    return kernel, stride, (before, total - before)


def _bn(torch, channels):
    return torch.nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


def _conv(torch, cin, cout, kernel, stride=1, groups=1):
    """No bias; 'same' for odd kernels (stride 2 on even sides: see the module docstring); Kaiming-uniform as layers.ts."""
    conv = torch.nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, groups=groups, bias=False)
    torch.nn.init.kaiming_uniform_(conv.weight, nonlinearity='relu')
    return conv


def _linear(torch, cin, cout):
    linear = torch.nn.Linear(cin, cout)
    torch.nn.init.kaiming_uniform_(linear.weight, nonlinearity='relu')
    torch.nn.init.zeros_(linear.bias)
    return linear


def build_mobincep(torch, classes=3, width=1.0, channels=None):
    """Image [B, 3, H, W] -> logits; `features(x)` gives the pooled features, `joint(x)` (logits, features)."""
    nn = torch.nn
    c = lambda n: mobincep_channels(n, width)  # noqa: E731
    cin = channels or MOBINCEP['channels']

    def cbr(ci, co, kernel, stride=1, groups=1):
        return nn.Sequential(_conv(torch, ci, co, kernel, stride, groups), _bn(torch, co), nn.ReLU(inplace=True))

    class Mobincep(nn.Module):
        def __init__(self):
            super().__init__()
            kernel, stride, filters = MOBINCEP['buffer']
            buffer = c(filters)
            self.buffer = cbr(cin, buffer, kernel, stride)
            inc = MOBINCEP['inception']
            self.branch1 = cbr(buffer, c(inc['branch1']), 1)
            self.branch3 = nn.Sequential(cbr(buffer, c(inc['branch3'][0]), 1), cbr(c(inc['branch3'][0]), c(inc['branch3'][1]), 3))
            self.branch5 = nn.Sequential(cbr(buffer, c(inc['branch5'][0]), 1), cbr(c(inc['branch5'][0]), c(inc['branch5'][1]), 5))
            pool, pool_filters = inc['pool']
            self.branch_pool = nn.Sequential(nn.AvgPool2d(pool, 1, padding=pool // 2, count_include_pad=False),
                                             cbr(buffer, c(pool_filters), 1))
            ch = c(inc['branch1']) + c(inc['branch3'][1]) + c(inc['branch5'][1]) + c(pool_filters)
            layers = []
            for filters, s in MOBINCEP['separable']:
                out = c(filters)
                layers += [cbr(ch, ch, 3, s, groups=ch), cbr(ch, out, 1)]
                ch = out
            self.separable = nn.Sequential(*layers)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.logits = _linear(torch, ch, classes)

        def features(self, x):
            x = self.buffer(x)
            x = torch.cat([self.branch1(x), self.branch3(x), self.branch5(x), self.branch_pool(x)], dim=1)
            return self.pool(self.separable(x)).flatten(1)

        def joint(self, x):
            f = self.features(x)
            return self.logits(f), f

        def forward(self, x):
            return self.joint(x)[0]

    return Mobincep()


def build_organet(torch, classes=3, width=1.0, input_size=None, channels=None, adapted_size=None, latent=None):
    """Image [B, 1, 382, 382] -> logits; `joint(x)` gives (logits, latent)."""
    nn = torch.nn
    input_size = input_size or ORGANET['input_size']
    cin = channels or ORGANET['channels']
    adapted_size = adapted_size or ORGANET['adapted_size']
    latent = latent or ORGANET['latent']
    c = lambda n: make_divisible(n * width)  # noqa: E731

    class Bottleneck(nn.Module):
        def __init__(self, ci, co, expansion, stride):
            super().__init__()
            hidden = round(ci * expansion)
            layers = []
            if expansion != 1:
                layers += [_conv(torch, ci, hidden, 1), _bn(torch, hidden), nn.ReLU6(inplace=True)]
            layers += [_conv(torch, hidden, hidden, 3, stride, groups=hidden), _bn(torch, hidden), nn.ReLU6(inplace=True),
                       _conv(torch, hidden, co, 1), _bn(torch, co)]
            self.body = nn.Sequential(*layers)
            self.residual = stride == 1 and ci == co

        def forward(self, x):
            y = self.body(x)
            return x + y if self.residual else y

    class Organet(nn.Module):
        def __init__(self):
            super().__init__()
            kernel, stride, (before, after) = adaptation_geometry(input_size, adapted_size)
            adapted = ORGANET['adapted_channels']
            adapt_conv = nn.Conv2d(cin, adapted, kernel, stride=stride, bias=False)  # 'valid' after the explicit padding
            nn.init.kaiming_uniform_(adapt_conv.weight, nonlinearity='relu')
            self.adapt = nn.Sequential(nn.ZeroPad2d((before, after, before, after)), adapt_conv, _bn(torch, adapted))
            k, s, filters = ORGANET['stem']
            ch = c(filters)
            layers = [_conv(torch, adapted, ch, k, s), _bn(torch, ch), nn.ReLU6(inplace=True)]
            for t, filters, repeats, first_stride in ORGANET['stages']:
                out = c(filters)
                for r in range(repeats):
                    layers.append(Bottleneck(ch, out, t, first_stride if r == 0 else 1))
                    ch = out
            last = c(ORGANET['last'])
            layers += [_conv(torch, ch, last, 1), _bn(torch, last), nn.ReLU6(inplace=True)]
            self.features = nn.Sequential(*layers)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.latent = _linear(torch, last, latent)
            self.logits = _linear(torch, latent, classes)

        def joint(self, x):
            z = self.latent(self.pool(self.features(self.adapt(x))).flatten(1))
            return self.logits(z), z

        def forward(self, x):
            return self.joint(x)[0]

    return Organet()


def build(torch, model, classes=3, width=1.0):
    return build_mobincep(torch, classes, width) if model == 'mobincep' else build_organet(torch, classes, width)


def input_shape(model):
    spec = MOBINCEP if model == 'mobincep' else ORGANET
    return spec['channels'], spec['input_size'], spec['input_size']


def safe_sqrt(torch, x):
    """sqrt(x) for x >= 0, with sqrt(0) = 0 and a zero (not infinite) gradient there."""
    positive = x > 0
    return torch.where(positive, torch.sqrt(torch.where(positive, x, torch.ones_like(x))), torch.zeros_like(x))


def mobincep_loss(torch, logits, features, one_hot, gamma1=MOBINCEP['gamma1'], gamma2=MOBINCEP['gamma2']):
    """Cross-entropy + centroid separation + class scatter (src/models/mobincep/losses.ts), on the pooled features."""
    ce = (torch.logsumexp(logits, 1) - (one_hot * logits).sum(1)).mean()
    counts = one_hot.sum(0)
    present = (counts > 0).float()
    centroids = one_hot.t() @ features / counts.clamp_min(1).unsqueeze(1)
    overall = features.mean(0, keepdim=True)
    separation = (((centroids - overall) ** 2).sum(1) * present).sum()
    own = one_hot @ centroids
    distances = safe_sqrt(torch, ((features - own) ** 2).sum(1))
    scatter = ((one_hot.t() @ distances.unsqueeze(1)).squeeze(1) ** 2).sum()
    separation_term = gamma1 / (separation + SEPARATION_EPSILON) if present.sum().item() >= 2 else separation * 0
    return ce + separation_term + gamma2 * scatter


def organet_loss(torch, logits, latent, one_hot, gamma=ORGANET['gamma']):
    """Cross-entropy + gamma * MMD(latent, fresh N(0, I) samples), kernel exp(-|a - b|^2 / d^2) (src/models/organet/losses.ts)."""
    ce = (torch.logsumexp(logits, 1) - (one_hot * logits).sum(1)).mean()
    prior = torch.randn_like(latent)
    d = latent.shape[1]

    def kernel(a, b):
        return torch.exp(-((a.unsqueeze(1) - b.unsqueeze(0)) ** 2).sum(2) / (d * d))

    mmd = kernel(latent, latent).mean() + kernel(prior, prior).mean() - 2 * kernel(latent, prior).mean()
    return ce + gamma * mmd


def optimizer_for(torch, model, net):
    if net == 'mobincep':
        return torch.optim.Adam(model.parameters(), lr=MOBINCEP['learning_rate'], eps=MOBINCEP['epsilon'], amsgrad=True)
    return torch.optim.Adam(model.parameters(), lr=ORGANET['learning_rate'], eps=ORGANET['epsilon'])


def count(torch, model):
    """Trainable parameters, buffers (running statistics) and their sum, which is what TF.js's countParams() counts."""
    parameters = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for name, b in model.named_buffers() if not name.endswith('num_batches_tracked'))
    return {'parameters': parameters, 'buffers': buffers, 'tfjs_count': parameters + buffers}


def forward_flops(torch, model, shape):
    """2 x multiply-adds of every conv and linear layer on one image, from the shapes a forward pass sees."""
    nn = torch.nn
    macs = [0]

    def hook(module, inputs, output):
        if isinstance(module, nn.Linear):
            macs[0] += module.in_features * module.out_features
        else:
            k = module.kernel_size[0] * module.kernel_size[1]
            macs[0] += output.shape[-2] * output.shape[-1] * k * (module.in_channels // module.groups) * module.out_channels

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, *shape))
    for h in handles:
        h.remove()
    return 2 * macs[0]


def time_training_and_inference(torch, net='mobincep', batch=4, inference_batch=8, classes=3, warmup=1, runs=3):
    """Milliseconds per training step (the seed's loss and optimiser, train mode) and per inference batch
    (eval, no_grad, forward + softmax), each run timed alone after `warmup` untimed ones."""
    torch.manual_seed(0)
    model = build(torch, net, classes)
    shape = input_shape(net)
    x = torch.rand(batch, *shape)
    x_infer = torch.rand(inference_batch, *shape)
    labels = torch.arange(batch) % classes  # every class present, as in the browser run
    one_hot = torch.nn.functional.one_hot(labels, classes).float()
    optimizer = optimizer_for(torch, model, net)
    loss_fn = mobincep_loss if net == 'mobincep' else organet_loss

    def train_step():
        model.train()
        optimizer.zero_grad()
        logits, extra = model.joint(x)
        loss = loss_fn(torch, logits, extra, one_hot)
        loss.backward()
        optimizer.step()
        return loss.item()

    def inference_batch_fn():
        model.eval()
        with torch.no_grad():
            torch.softmax(model(x_infer), 1)

    def timed(fn):
        return time_runs(fn, runs, warmup)

    result = {'train_step_ms': timed(train_step), 'inference_batch_ms': timed(inference_batch_fn)}
    loss = train_step()
    if not math.isfinite(loss):
        raise AssertionError(f'{net}: non-finite training loss {loss}')
    return {**result, 'inference_batch': inference_batch, 'classes': classes, 'input_shape': list(shape),
            **count(torch, model), 'forward_flops': forward_flops(torch, model, shape)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--count', action='store_true', help='print parameter counts and forward FLOPs per network')
    parser.add_argument('--model', nargs='*', choices=['mobincep', 'organet'], default=['mobincep', 'organet'])
    parser.add_argument('--classes', type=int, default=3)
    parser.add_argument('--width', type=float, nargs='*', default=[1.0])
    args = parser.parse_args()
    if not args.count:
        parser.error('nothing to do (use --count; timings are in bench/models_reference.py)')
    import torch
    torch.set_num_threads(1)
    for net in args.model:
        for width in args.width:
            model = build(torch, net, args.classes, width)
            print(json.dumps({'model': net, 'classes': args.classes, 'width': width, **count(torch, model),
                              'forward_flops': forward_flops(torch, model, input_shape(net))}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
