"""The CISH autoencoder of src/models/cish/model.ts in PyTorch (NCHW), shared
by the benchmarks (bench/cish_reference.py, bench/models_reference.py) and the
equivalence check (scripts/cish_torch_equivalence.py).

Encoder: 4 × (3×3 conv 'same' -> ReLU -> max-pool 2, 2, 3, 5), flatten C×H×W,
Linear 800->100->25->latent, each with LeakyReLU(0.01). Decoder: Linear
latent->25->100->800 with LeakyReLU, unflatten, ConvTranspose2d with
kernel = stride (5, 3, 2, 2), ReLU, and sigmoid at the end. The TF.js input
standardisation (a fixed rescaling) is applied by the caller.
"""
from timing import time_runs


def build_cish_autoencoder(torch, latent=2, size=300):
    nn = torch.nn
    side = size // 60
    flat = 32 * side * side

    class CishAutoencoder(nn.Module):
        def __init__(self):
            super().__init__()
            layers = []
            for cin, cout, pool in [(1, 4, 2), (4, 8, 2), (8, 16, 3), (16, 32, 5)]:
                layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(), nn.MaxPool2d(pool)]
            layers += [nn.Flatten(),
                       nn.Linear(flat, 100), nn.LeakyReLU(0.01),
                       nn.Linear(100, 25), nn.LeakyReLU(0.01),
                       nn.Linear(25, latent), nn.LeakyReLU(0.01)]
            self.encoder = nn.Sequential(*layers)
            self.decoder = nn.Sequential(
                nn.Linear(latent, 25), nn.LeakyReLU(0.01),
                nn.Linear(25, 100), nn.LeakyReLU(0.01),
                nn.Linear(100, flat), nn.LeakyReLU(0.01),
                nn.Unflatten(1, (32, side, side)),
                nn.ConvTranspose2d(32, 16, 5, stride=5), nn.ReLU(),
                nn.ConvTranspose2d(16, 8, 3, stride=3), nn.ReLU(),
                nn.ConvTranspose2d(8, 4, 2, stride=2), nn.ReLU(),
                nn.ConvTranspose2d(4, 1, 2, stride=2), nn.Sigmoid(),
            )

        def forward(self, x):
            return self.decoder(self.encoder(x))

    return CishAutoencoder()


def time_training_and_inference(torch, batch=32, size=300, warmup=2, runs=7, encode_batch=None):
    """Milliseconds per Adam/MSE training step (of `batch` tiles) and per encoder batch (no_grad, `encode_batch` tiles,
    default `batch`), each run timed alone."""
    torch.manual_seed(0)
    model = build_cish_autoencoder(torch, size=size)
    x = torch.rand(batch, 1, size, size)
    x_encode = torch.rand(encode_batch or batch, 1, size, size)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-8)

    def train_step():
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), x)
        loss.backward()
        optimizer.step()

    def inference_batch():
        with torch.no_grad():
            model.encoder(x_encode)

    def timed(fn):
        return time_runs(fn, runs, warmup)

    return {'train_step_ms': timed(train_step), 'inference_batch_ms': timed(inference_batch)}
