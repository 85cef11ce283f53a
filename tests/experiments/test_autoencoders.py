"""Autoencoder models, presets and configs: shapes, parameter counts, the seeds' details."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnlab.core.models.autoencoders import DENSE_PRESETS, DenseAutoencoder, DenseSpec
from nnlab.core.models.conv_autoencoders import ConvVAE, GenerativeAE, PoolCAE, StridedCAE
from nnlab.core.models.summary import summarize
from nnlab.errors import NnlabError
from nnlab.experiments.autoencoders.config import AE_PRESETS, CAE_PRESETS, AEConfig, CAEConfig, config_from_run
from nnlab.experiments.autoencoders.report import scatter_raster, to_2d
from nnlab.experiments.autoencoders.run import build_model, make_objective

X = torch.rand(3, 1, 28, 28)

# counted by hand from the seeds' layers (weights + biases), e.g. pool:
# conv 40 + conv 296 + 392→20 7860 + 20→2 42 | 2→20 60 + 20→392 8232 + conv 292 + conv 37
PARAMS = {("ae", "mlp4"): 437_746, ("ae", "shallow"): 218_192, ("ae", "funnel"): 328_008,
          ("cae", "pool"): 16_859, ("cae", "strided"): 87_125, ("cae", "generative"): 543_551,
          ("cae", "vae"): 89_957,
          # conv 1→16 k3 160 + 16→32 k3 4,640 + 32→2 k7 3,138 | convT 2→32 k7 3,168 + 32→16 4,624 + 16→1 145
          ("cae", "funnel"): 15_875}


@pytest.mark.parametrize("family,arch", sorted(PARAMS))
def test_every_preset_reconstructs_28x28_and_has_its_parameter_count(family, arch):
    config = (AEConfig if family == "ae" else CAEConfig)(arch=arch)
    model = build_model(config).eval()
    with torch.no_grad():
        assert model.reconstruct(X).shape == (3, 1, 28, 28)
        assert model.encode(X).shape == (3, config.latent)
    assert sum(p.numel() for p in model.parameters()) == PARAMS[(family, arch)]


def test_presets_carry_the_seeds_values():
    shallow = AEConfig(arch="shallow")
    assert (shallow.dataset, shallow.epochs, shallow.latent, shallow.loss) == ("fashion-mnist", 20, 64, "mse")
    funnel = AEConfig(arch="funnel", latent=32)
    assert (funnel.loss, funnel.latent, funnel.optimizer) == ("l1", 32, "adam")
    gen = CAEConfig(arch="generative")
    assert (gen.optimizer, gen.lr, gen.batch_size, gen.epochs, gen.latent) == ("sgd", 0.1, 64, 10, 10)
    assert set(AE_PRESETS) == set(DENSE_PRESETS) and set(CAE_PRESETS) == {"pool", "strided", "funnel", "generative", "vae"}


def test_mlp4_has_no_nonlinearity_at_the_embedding_and_funnel_relus_everything():
    mlp4 = build_model(AEConfig(arch="mlp4"))
    assert type(mlp4.encoder[-1]).__name__ == "Linear" and type(mlp4.decoder[0]).__name__ == "Linear"
    assert sum(type(m).__name__ == "Linear" for m in mlp4.encoder) == 4
    funnel = build_model(AEConfig(arch="funnel"))
    assert [type(m).__name__ for m in funnel.decoder][-2:] == ["ReLU", "Unflatten"]
    assert (funnel.encode(X) >= 0).all()  # ReLU on the embedding too


def test_conv_funnel_mirrors_the_dense_funnel_with_lambda_as_the_bottleneck():
    config = CAEConfig(arch="funnel", latent=32)
    assert (config.loss, config.optimizer, config.lr) == ("l1", "adam", 1e-3)
    model = build_model(config).eval()
    rows = summarize(model, (1, 28, 28))
    encoder = [r.output for r in rows if r.name.startswith("encoder") and r.kind == "Conv2d"]
    decoder = [r.output for r in rows if r.name.startswith("decoder") and r.kind == "ConvTranspose2d"]
    # one channel's map has 196 then 49 pixels: the dense funnel's widths; λ channels of 1x1 in the middle
    assert encoder == [(16, 14, 14), (32, 7, 7), (32, 1, 1)]
    assert decoder == [(32, 7, 7), (16, 14, 14), (1, 28, 28)]  # the same shapes, in reverse
    assert [r.kind for r in rows].count("ReLU") == 6  # after every layer, embedding and output included
    assert (model.encode(X) >= 0).all() and (model.reconstruct(X) >= 0).all()
    assert sum(p.numel() for p in model.parameters()) == 109_985  # the two k7 layers grow with λ: 2·(32·32·49 + 32)
    with pytest.raises(NnlabError, match="does not suit"):
        CAEConfig(arch="funnel", loss="bce")  # a ReLU output is no probability


def test_custom_widths_build_a_mirrored_stack():
    model = DenseAutoencoder(DenseSpec((784, 256, 64), 8))
    built = build_model(AEConfig(widths=(784, 256, 64), latent=8))
    sizes = [m.out_features for m in built.encoder if hasattr(m, "out_features")]
    assert sizes == [256, 64, 8]
    assert [m.out_features for m in built.decoder if hasattr(m, "out_features")] == [64, 256, 784]
    assert sum(p.numel() for p in built.parameters()) == sum(p.numel() for p in model.parameters())


def test_generative_follows_the_seed():
    torch.manual_seed(0)
    model = GenerativeAE().eval()
    out = model(X)
    assert out.shape == (3, 10 + 784)  # concat(z, f − x)
    assert torch.allclose(out[:, :10], model.encode(X))
    # the decoder alone maps a 10-d code to 28x28 through 20x6x6 -> 12x12 -> 25x25 -> 28x28
    shapes = [r.output for r in summarize(model, (1, 28, 28)) if r.name.startswith("decoder")]
    assert (20, 6, 6) in shapes and (20, 12, 12) in shapes and (20, 25, 25) in shapes and shapes[-1] == (1, 28, 28)
    assert model.sample(4).shape == (4, 1, 28, 28)
    torch.manual_seed(1)
    expected = (model(X) ** 2).mean()  # MSE against zeros
    torch.manual_seed(1)
    loss, _ = make_objective(CAEConfig(arch="generative"), model)(model, X, None)
    assert loss.item() == pytest.approx(expected.item())


def test_generative_mirror_encoder_is_the_decoders_exact_inverse_stage_by_stage():
    from nnlab.experiments.autoencoders.sketch import stage_rows

    model = GenerativeAE().eval()  # the default: the mirror encoder
    encoder, decoder = stage_rows(model)
    assert [r.output for r in encoder] == [(20, 25, 25), (20, 12, 12), (20, 6, 6), (720,), (360,), (10,)]
    assert [r.params for r in encoder] == [340 + 40, 6_420 + 40, 0, 0, 259_560 + 720, 3_610]  # conv/FC + BN
    enc_in = [(1, 28, 28)] + [r.output for r in encoder[:-1]]
    dec_in = [encoder[-1].output] + [r.output for r in decoder[:-1]]
    assert model.pairs == [(0, 5), (1, 4), (2, 3), (3, 2), (4, 1), (5, 0)]
    for i, j in model.pairs:  # the paired decoder stage maps the stage's output back to its input
        assert (dec_in[j], decoder[j].output) == (encoder[i].output, enc_in[i])
    strided = GenerativeAE(encoder="strided")
    assert strided.pairs == [] and sum(p.numel() for p in strided.parameters()) == 317_359
    assert strided.decoder.state_dict().keys() == model.decoder.state_dict().keys()


def test_generative_encoder_flag_defaults_to_mirror_and_old_runs_load_as_strided():
    assert CAEConfig(arch="generative").encoder == "mirror" and CAEConfig(arch="pool").encoder is None
    assert isinstance(build_model(CAEConfig(arch="generative", encoder="strided")).encoder[0], torch.nn.Conv2d)
    with pytest.raises(NnlabError, match="--encoder applies to --arch generative only"):
        CAEConfig(arch="pool", encoder="mirror")
    with pytest.raises(NnlabError, match="unknown --encoder 'dense'"):
        CAEConfig(arch="generative", encoder="dense")
    recorded = {k: v for k, v in CAEConfig(arch="generative").__dict__.items() if k != "encoder"}
    old = config_from_run("cae", recorded)  # a run.json from before --encoder: the strided encoder
    assert old.encoder == "strided"
    build_model(old).load_state_dict(GenerativeAE(encoder="strided").state_dict())


def test_pool_skip_passes_the_pooled_maps_to_the_decoder():
    plain, skip = PoolCAE(), PoolCAE(skip=True)
    skip.load_state_dict(plain.state_dict())  # same weights: only the skips differ
    codes = skip.codes(X)
    assert [tuple(c.shape[1:]) for c in codes] == [(2,), (4, 14, 14), (8, 7, 7)]
    assert not torch.allclose(plain.reconstruct(X), skip.reconstruct(X))
    assert torch.allclose(plain.reconstruct(X), skip.decode(codes[0]))  # no maps: no skips


def test_vae_returns_mean_and_log_variance():
    vae = ConvVAE(latent=6)
    recon, mu, logvar = vae(X)
    assert recon.shape == (3, 1, 28, 28) and mu.shape == logvar.shape == (3, 6)
    loss, extras = make_objective(CAEConfig(arch="vae", latent=6), vae)(vae, X, None)
    assert loss.item() == pytest.approx((extras["recon"] + extras["kl"]).item())
    assert StridedCAE(latent=4).encode(X).shape == (3, 4)


@pytest.mark.parametrize("kwargs,fragment", [
    ({"arch": "nope"}, "unknown --arch"),
    ({"arch": "funnel", "loss": "bce"}, "does not suit"),
    ({"latent": 0}, "--latent"),
    ({"widths": (100, 20)}, "--widths must start at 784"),
    ({"noise": -1.0}, "--noise"),
    ({"dataset": "cifar"}, "--dataset"),
])
def test_bad_ae_configs_say_what_is_wrong(kwargs, fragment):
    with pytest.raises(NnlabError, match=fragment):
        AEConfig(**kwargs)


def test_bad_cae_configs_say_what_is_wrong():
    with pytest.raises(NnlabError, match="--skip applies to --arch pool"):
        CAEConfig(arch="strided", skip=True)
    with pytest.raises(NnlabError, match="--noise does not apply"):
        CAEConfig(arch="generative", noise=0.3)


def test_config_round_trips_through_run_json():
    config = AEConfig(widths=(784, 100), latent=3)
    values = {**config.__dict__, "widths": [784, 100], "unknown_key": 1}
    assert config_from_run("ae", values) == config
    with pytest.raises(NnlabError, match="needs an `ae` or `cae` run"):
        config_from_run("kmeans", {})


def test_pca_and_raster():
    z = np.random.default_rng(0).normal(size=(50, 5)) * [5, 3, 1, 0.1, 0.1]
    points, what = to_2d(z)
    assert points.shape == (50, 2) and "PCA of 5-D" in what
    image = scatter_raster(points, np.arange(50) % 10, size=(40, 20))
    assert image.shape == (20, 40, 3) and image.max() <= 1


def test_a_dead_latent_dimension_is_reported(idx_data_dir):
    from nnlab.core.data import load_dataset
    from nnlab.experiments.autoencoders.report import latent_scatter
    from nnlab.runs.recorder import Recorder

    class Warnings(Recorder):
        def __init__(self):
            super().__init__()
            self.warnings = []

        def warn(self, message):
            self.warnings.append(message)

    model = build_model(AEConfig(arch="funnel")).eval()  # ReLU on the 2-D embedding
    with torch.no_grad():
        model.encoder[-2].weight.copy_(torch.tensor([1.0, 0.0]).unsqueeze(1).expand(2, 49))
        model.encoder[-2].bias.copy_(torch.tensor([0.0, -1.0]))  # z1 = ReLU(−1) = 0 for every image
    recorder = Warnings()
    data = load_dataset("mnist", idx_data_dir)
    assert latent_scatter(model, data.test, data.classes, recorder)["dead_latent_dims"] == 1
    assert "latent dimension(s) 1 of 2 are constant" in recorder.warnings[0]


def test_the_denoising_preset_trains_on_noisy_inputs_unless_told_not_to():
    assert CAEConfig(arch="strided").noise == 0.3  # the report's "arbitrary noise", assumed σ = 0.3
    assert CAEConfig(arch="strided", noise=0.0).noise == 0.0
    assert CAEConfig(arch="pool").noise == 0.0 and AEConfig().noise == 0.0
    torch.manual_seed(0)
    model = StridedCAE().eval()
    images = torch.rand(8, 1, 28, 28)
    torch.manual_seed(3)
    loss, _ = make_objective(CAEConfig(arch="strided"), model)(model, images, None)
    torch.manual_seed(3)
    noisy = images + 0.3 * torch.randn_like(images)  # the objective's own draw, repeated
    assert loss.item() == pytest.approx(((model(noisy) - images) ** 2).mean().item(), rel=1e-5)
    assert model.can_sample and model.sample(9).shape == (9, 1, 28, 28)  # the report's part (c)


def test_greedy_map_reproduces_the_reports_repair_and_hungarian_is_never_worse():
    from nnlab.core.metrics import contingency, hungarian_accuracy
    from nnlab.experiments.clustering import greedy_centroid_match, mapped_accuracy

    classes = np.eye(10) * 10
    # the report: clusters 0 and 3 both nearest to class 2; class 8 is free and nearer to cluster 3
    centres = classes[[2, 1, 9, 2, 7, 6, 0, 4, 5, 3]].copy()
    centres[3] += 0.3 * (classes[8] - classes[2])
    assert greedy_centroid_match(centres, classes) == {0: 2, 1: 1, 2: 9, 3: 8, 4: 7, 5: 6, 6: 0, 7: 4, 8: 5, 9: 3}
    rng = np.random.default_rng(0)
    for _ in range(20):
        k = int(rng.integers(2, 8))
        labels, assigned = rng.integers(0, 5, 300), rng.integers(0, k, 300)
        table = contingency(labels, assigned, 5, k)
        greedy = greedy_centroid_match(rng.normal(size=(k, 3)), rng.normal(size=(5, 3)))
        assert len(set(greedy.values())) == len(greedy) == min(k, 5)  # one-to-one, unmapped only past 5
        assert mapped_accuracy(table, greedy) <= hungarian_accuracy(table) + 1e-12
