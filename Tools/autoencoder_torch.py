"""PyTorch twins of the zoo's `autoencoder` and `vae` (Sources/Zoo/Architectures/Autoencoder.swift).

Same layers, shapes and state-dict keys as the zoo's, so weights move between them by name:
encoder.conv1 (1->16, 4x4, stride 2, pad 1), encoder.conv2 (16->32, same), encoder.latent and,
for the VAE, encoder.log_var (32*7*7 -> L); decoder.fc (L -> 32*7*7), decoder.deconv1
(32->16, 4x4 transposed, stride 2, pad 1), decoder.deconv2 (16->1, same), all with ReLU between;
the decoder returns per-pixel logits. `forward` reconstructs through the code or posterior mean.
"""

import torch
import torch.nn.functional as F
from torch import nn

MAP = (32, 7, 7)


class Encoder(nn.Module):
    def __init__(self, latent, variational, channels=1):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 16, 4, stride=2, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 4, stride=2, padding=1)
        flat = MAP[0] * MAP[1] * MAP[2]
        self.latent = nn.Linear(flat, latent)
        self.log_var = nn.Linear(flat, latent) if variational else None

    def forward(self, x):
        h = F.relu(self.conv2(F.relu(self.conv1(x)))).flatten(1)
        return self.latent(h), (self.log_var(h) if self.log_var is not None else None)


class Decoder(nn.Module):
    def __init__(self, latent, channels=1):
        super().__init__()
        self.fc = nn.Linear(latent, MAP[0] * MAP[1] * MAP[2])
        self.deconv1 = nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1)
        self.deconv2 = nn.ConvTranspose2d(16, channels, 4, stride=2, padding=1)

    def forward(self, z):
        h = F.relu(self.fc(z)).view(-1, *MAP)
        return self.deconv2(F.relu(self.deconv1(h)))


class ConvAutoencoder(nn.Module):
    def __init__(self, variational, latent=16, channels=1):
        super().__init__()
        self.variational = variational
        self.encoder = Encoder(latent, variational, channels)
        self.decoder = Decoder(latent, channels)

    def forward(self, x):
        return self.decoder(self.encoder(x)[0])

    def loss(self, x, noise=None):
        """Negative ELBO per image (VAE) or BCE reconstruction per image (autoencoder), with its
        reconstruction and KL terms; `noise` is the reparameterisation's N(0, 1) draw."""
        mean, log_var = self.encoder(x)
        z = mean
        if self.variational:
            noise = torch.randn_like(mean) if noise is None else noise
            z = mean + torch.exp(0.5 * log_var) * noise
        logits = self.decoder(z)
        n = x.shape[0]
        rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
        if not self.variational:
            return rec, rec, torch.zeros(())
        kl = -0.5 * torch.sum(1 + log_var - mean.pow(2) - log_var.exp()) / n
        return rec + kl, rec, kl
