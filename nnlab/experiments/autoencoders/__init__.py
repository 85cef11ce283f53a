"""Autoencoders: `config` (light), `run` (training ae/cae), `report` (figures), `latent` (cluster, generate)."""
