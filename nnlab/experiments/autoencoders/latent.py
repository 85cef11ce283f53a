"""Working with trained autoencoder runs: k-means in latent space, and sampling generators.

`nnlab ae cluster RUN` clusters the training embeddings with k-means and scores the clusters
against the labels (accuracy as-is, after the denoising report's greedy centroid mapping and
after the optimal one-to-one Hungarian mapping, NMI), beside k-means on the raw pixels.
`nnlab cae generate RUN...` samples saved generative models side by side.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from nnlab.core.checkpoints import load_weights
from nnlab.core.data import load_dataset, to_float
from nnlab.core.device import seed_everything
from nnlab.core.figures import save_images
from nnlab.core.metrics import contingency, hungarian_accuracy, hungarian_match, nmi
from nnlab.core.models.autoencoders import Autoencoder
from nnlab.errors import NnlabError
from nnlab.experiments import base
from nnlab.experiments.autoencoders.config import (AutoencoderConfig, ClusterConfig, GenerateConfig,
                                                   config_from_run, sample_count)
from nnlab.experiments.autoencoders.report import embeddings, show_samples
from nnlab.experiments.autoencoders.run import build_model
from nnlab.experiments.base import Setup, prepare
from nnlab.experiments.clustering import Clustering, greedy_centroid_match, mapped_accuracy, report_clustering
from nnlab.runs.recorder import Recorder
from nnlab.runs.store import ARTIFACTS_DIR, Run, RunStore

MODEL_FILE = "model.pt"
LATENT_INITS = 10  # k-means restarts on the embeddings: cheap, a few dimensions
RAW_INITS = 3  # on 784 pixels each restart costs seconds; 3 settle the score to a fraction of a percent


# ---- loading a trained run ----------------------------------------------------------------

def resolve_run(store: RunStore, ref: str, *, need_sampler: bool = False) -> Run:
    """The `ae`/`cae` run `ref` names, checked to hold a saved model (and to generate, if asked)."""
    run = store.get(ref)
    if run.error:
        raise NnlabError(f"run {run.id} cannot be read: {run.error}")
    config = config_from_run(run.command, run.config)
    if run.artifact(MODEL_FILE) is None:
        raise NnlabError(f"run {run.id} has no saved model ({ARTIFACTS_DIR}/{MODEL_FILE}); "
                         f"its status is {run.status}")
    if need_sampler and not build_model(config).can_sample:
        raise NnlabError(f"run {run.id} is a `{run.command} --arch {config.arch}` run, which cannot generate; "
                         "train one with `nnlab cae --arch generative`, `--arch vae` or `--arch strided`")
    return run


def load_trained(run: Run, device: torch.device) -> tuple[AutoencoderConfig, Autoencoder]:
    """The run's config and its trained model, in eval mode on `device`."""
    config = config_from_run(run.command, run.config)
    model = build_model(config)
    path = run.artifact(MODEL_FILE)
    if path is None:
        raise NnlabError(f"run {run.id} has no saved model ({ARTIFACTS_DIR}/{MODEL_FILE})")
    state = load_weights(path, f"run {run.id}", map_location=device)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise NnlabError(f"run {run.id}: the saved model does not fit its recorded config ({exc})") from None
    return config, model.to(device).eval()


# ---- clustering in latent space ------------------------------------------------------------

@dataclass
class Scores:
    """How one k-means partition matches the labels, under each mapping of clusters to classes."""

    clustering: Clustering  # its accuracy is the Hungarian-mapped one
    accuracy_raw_ids: float  # cluster id taken as the label, before any mapping
    greedy: dict[int, int]  # the denoising report's cluster -> class map
    accuracy_greedy: float

    def rows(self, mapping: str) -> dict[str, float]:
        """The metrics to show for `--mapping`, by name."""
        shown = {"accuracy, cluster id = label": self.accuracy_raw_ids}
        if mapping in ("greedy", "both"):
            shown["accuracy, greedy centroid map (report)"] = self.accuracy_greedy
        if mapping in ("hungarian", "both"):
            shown["accuracy, Hungarian-mapped"] = self.clustering.accuracy
        return shown | {"NMI": self.clustering.nmi}


def kmeans_scores(points: np.ndarray, labels: np.ndarray, k: int, n_classes: int, n_init: int, seed: int) -> Scores:
    """Fit scikit-learn's k-means to `points` and score its clusters against `labels`."""
    from sklearn.cluster import KMeans

    model = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(points)
    assigned = model.labels_
    table = contingency(labels, assigned, n_classes, k)
    clustering = Clustering(table, table.sum(0).tolist(), hungarian_accuracy(table), nmi(labels, assigned),
                            float(model.inertia_ / len(points)), [])
    present = [c for c in range(n_classes) if (labels == c).any()]  # a class with no point has no centroid
    centroids = np.stack([points[labels == c].mean(0) for c in present])
    greedy = {cluster: present[i] for cluster, i in greedy_centroid_match(model.cluster_centers_, centroids).items()}
    return Scores(clustering, float(np.mean(assigned == labels)), greedy, mapped_accuracy(table, greedy))


def preflight_cluster(config: ClusterConfig, store: RunStore | None = None) -> Setup:
    """Find the trained run, load its model and the data it trained on, before any run exists."""
    setup = base.preflight(config)
    trained = resolve_run(store or RunStore(), config.run)
    ae_config, model = load_trained(trained, setup.device)
    # the dataset the run actually trained on (the digits fallback may have stood in for MNIST)
    ae_config = replace(ae_config, dataset=trained.info.get("dataset", ae_config.dataset), fallback=False,
                        data_dir=config.data_dir or ae_config.data_dir)
    setup.data = load_dataset(ae_config.dataset, ae_config.data_dir, device=setup.device)
    setup.config = replace(config, run=str(trained.path.resolve()))
    setup.extras.update(trained=trained, ae_config=ae_config, model=model)
    return setup


def run_cluster(config: ClusterConfig, recorder: Recorder, setup: Setup | None = None) -> dict:
    """k-means on the run's training embeddings beside k-means on raw pixels; both tables, both mappings."""
    setup = prepare(config, recorder, setup, preflight_cluster)
    data, found = setup.data, setup.extras
    trained, ae_config, model = found["trained"], found["ae_config"], found["model"]
    recorder.update_run(source_run=trained.id)
    labels = data.train.labels.cpu().numpy()
    z = embeddings(model, data.train)
    recorder.info(f"run {trained.id} ({trained.command} --arch {ae_config.arch}): "
                  f"k-means (k={config.k}) on {len(z):,} training embeddings of {z.shape[1]} dimensions")
    spaces = {"latent": (f"latent ({z.shape[1]}-D)", kmeans_scores(z, labels, config.k, len(data.classes),
                                                                     LATENT_INITS, config.seed))}
    _show(recorder, "latent", spaces["latent"][1], data.classes, config.mapping)
    if config.raw:
        recorder.info(f"k-means on the raw pixels ({RAW_INITS} restarts)…")
        pixels = to_float(data.train.images).reshape(len(data.train), -1).cpu().numpy()
        spaces["pixels"] = ("raw pixels (784-D)", kmeans_scores(pixels, labels, config.k, len(data.classes),
                                                                RAW_INITS, config.seed))
        _show(recorder, "pixels", spaces["pixels"][1], data.classes, config.mapping)
    shown = {space: scores.rows(config.mapping) for space, (_, scores) in spaces.items()}
    rows = [[metric] + [shown[space][metric] for space in spaces] for metric in shown["latent"]]
    recorder.table("k-means clusters against the labels", ["metric"] + [name for name, _ in spaces.values()], rows,
                   caption="greedy: the report's nearest-centroid map; Hungarian: the optimal one-to-one map")
    if config.mapping == "both":
        recorder.info(WHY_HUNGARIAN)
    result = {"source_run": trained.id, "mapping": config.mapping}
    result |= {space: _scores_dict(scores, config.mapping) for space, (_, scores) in spaces.items()}
    recorder.summary({f"{space}_{key}": value for space in spaces for key, value in result[space].items()
                      if isinstance(value, float)})
    return result


WHY_HUNGARIAN = ("Hungarian is never worse on the training table: it maximises the matched count over all "
                 "one-to-one maps from clusters to classes, and the greedy map is one of them.")


def _show(recorder: Recorder, space: str, scores: Scores, classes, mapping: str) -> None:
    """The class-by-cluster table with the mapping highlighted (Hungarian unless only greedy is asked)."""
    greedy_only = mapping == "greedy"
    report_clustering(recorder, space, scores.clustering, classes, match=scores.greedy if greedy_only else None,
                      match_name="greedy centroid" if greedy_only else "Hungarian")
    maps = {"greedy": scores.greedy, "hungarian": hungarian_match(scores.clustering.table)}
    for name, match in maps.items():
        if mapping in (name, "both"):
            pairs = ", ".join(f"{cluster}→{label}" for cluster, label in sorted(match.items()))
            recorder.info(f"{space}: {name} map, cluster→class index: {pairs}")


def _scores_dict(scores: Scores, mapping: str) -> dict:
    c = scores.clustering
    out: dict = {}
    # the key accuracy first (Hungarian unless only greedy is asked): `nnlab runs list` shows the first
    if mapping in ("hungarian", "both"):
        out |= {"accuracy": c.accuracy, "accuracy_hungarian": c.accuracy,
                "hungarian_mapping": {str(k): v for k, v in sorted(hungarian_match(c.table).items())}}
    if mapping in ("greedy", "both"):
        out.setdefault("accuracy", scores.accuracy_greedy)
        out |= {"accuracy_greedy": scores.accuracy_greedy,
                "greedy_mapping": {str(k): v for k, v in sorted(scores.greedy.items())}}
    return out | {"accuracy_before_mapping": scores.accuracy_raw_ids, "nmi": c.nmi, "inertia": c.inertia,
                  "table": c.table.tolist()}


# ---- sampling ------------------------------------------------------------------------------

def preflight_generate(config: GenerateConfig, store: RunStore | None = None) -> Setup:
    """Find every run to sample and load its model, before any run exists."""
    setup = base.preflight(config)
    store = store or RunStore()
    runs = [resolve_run(store, ref, need_sampler=True) for ref in config.runs]
    setup.extras["models"] = [(run, *load_trained(run, setup.device)) for run in runs]
    setup.config = replace(config, runs=tuple(str(run.path.resolve()) for run in runs))
    return setup


def run_generate(config: GenerateConfig, recorder: Recorder, setup: Setup | None = None) -> dict:
    """Sample each run's model: the seed's enc_mode=0 recipe for `generative`; `vae` and `strided`
    decode z ~ N(0, I) (strided: the denoising report's part (c), 9 images unless --n says otherwise)."""
    setup = prepare(config, recorder, setup, preflight_generate)
    blocks, titles, result = [], [], {}
    for i, (run, ae_config, model) in enumerate(setup.extras["models"]):
        seed_everything(config.seed)  # every model draws from the same noise stream
        label = f"{ae_config.arch} ({run.id[-6:]})"
        n = sample_count(ae_config.arch, config.n)  # strided: the report's 9 random z
        images = show_samples(model, n, recorder, f"{n} samples: {label}", f"samples_{i}_{ae_config.arch}.png")
        pad = (-len(images)) % 10  # each run starts a new row of the combined figure
        blocks.append(np.concatenate([images, np.ones((pad, 28, 28), dtype=images.dtype)]))
        titles += [label] + [""] * (len(images) + pad - 1)
        result[run.id] = {"arch": ae_config.arch, "samples": len(images)}
    save_images(recorder.artifact("samples.png"), np.concatenate(blocks), titles=titles, ncols=10,
                suptitle="generated samples, one block per run")
    recorder.update_run(source_runs=list(result))
    return {"runs": result}
