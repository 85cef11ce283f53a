"""Lloyd's k-means in torch, step for step as scikit-learn's KMeans(algorithm="lloyd", n_init=1).

It works on the float32 tensor already resident on the device, so the comparison with the
network needs no copy to NumPy and no scikit-learn import. Each iteration is scikit-learn's:
- every point goes to its nearest centre, the lowest index winning ties;
- each centre moves to the mean of its points; a centre left with no point is moved onto
  the point farthest from its own centre (the farthest for the first empty cluster, the next
  for the second, ...), and that point leaves its old cluster's sum; when all points sit on
  their centres nothing moves, and a cluster still empty sits on the biggest one;
- it stops when no label changes, or when the summed squared centre shift is at most
  tol * mean(per-feature variance); if it stopped on the shift, labels are assigned once more.
Where several clusters empty at once, scikit-learn pairs them with the farthest points in
np.argpartition's order, which is unspecified; here the farthest point goes to the lowest index.

What makes it fast without changing a label (Elkan's bounds):
- each point keeps an upper bound on the distance to its centre and a lower bound on the
  distance to every other one; when the centres move, the bounds move by as much (triangle
  inequality), and only the points whose bounds overlap are measured again;
- a distance is measured in float32 as ||x||^2 - 2 x.c + ||c||^2, whose error is at most
  ERROR * (||x||^2 + ||c||^2); the bounds carry that margin, and a point whose two nearest
  centres lie within it is measured again in float64, so a label is the nearest centre's
  however the float32 products round (and a bound never claims more than it knows);
- each cluster's sum is kept in float64 and changed only by the points that change cluster
  (exact for data like MNIST's pixels/255, whose float32 values all add exactly in float64).
So the result does not depend on the block sizes, the thread count or the device. scikit-learn
adds its sums in float32, in an order that depends on its thread count: on all of MNIST its
centres are off the exact means by up to ~5e-5, a point on a boundary can go either way, and
its own runs on one and on two threads differ in a handful of labels and an iteration; so do
these from either. On small sets the labels and iteration counts are the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

CHUNK = 8192  # points per distance block: (CHUNK, k) floats at a time, not (N, k)
SMALL_CHUNK = 1024  # points per float64 copy: larger fresh blocks cost more in page faults than they save
# A float32 dot product of n terms errs by at most n * 2^-24 times the sum of |products|, which is
# at most (||x||^2 + ||c||^2) / 2 (Cauchy-Schwarz); 4e-4 covers n = 784 pixels with the norms' own
# rounding several times over, and for n up to ~3,000 features
ERROR = 4e-4


@dataclass(frozen=True)
class LloydResult:
    """Where Lloyd's k-means ended."""

    centers: torch.Tensor  # (k, D) float32
    labels: torch.Tensor  # (N,) int64, the nearest centre of each point
    inertia: float  # sum over points of the squared distance to their centre
    iterations: int  # as scikit-learn's n_iter_


class _Points:
    """The points with their squared norms, measured against centres."""

    def __init__(self, x: torch.Tensor):
        self.x = x
        self.sq = torch.einsum("nd,nd->n", x, x)  # float32: only margins and totals use it

    def rank(self, rows: torch.Tensor | slice, centers: torch.Tensor):
        """The nearest centre of the points at `rows`, with the distances' bounds: an upper bound
        on the distance to that centre and a lower bound on the distance to every other (float64)."""
        if isinstance(rows, slice):
            x, sq = self.x[rows], self.sq[rows]
        else:
            x, sq = self.x.index_select(0, rows), self.sq.index_select(0, rows)
        c_sq = (centers.double() ** 2).sum(1)
        d2 = torch.addmm(c_sq.float(), x, centers.T, alpha=-2).add_(sq[:, None]).double()  # (B, k)
        err = (ERROR * (sq.double() + c_sq.max()))[:, None]  # (B, 1): how far d2 may be off
        labels = torch.argmin(d2, dim=1)
        best = d2.gather(1, labels[:, None])
        unsure = torch.nonzero(((d2 <= best + 2 * err).sum(1) > 1)).flatten()  # two centres within the error
        if len(unsure):  # measured again in float64, where products err 2^-29 times less: exact enough
            x64 = x[unsure].double()
            sq64 = (x64 * x64).sum(1, keepdim=True)
            d2[unsure] = torch.addmm(c_sq, x64, centers.double().T, alpha=-2).add_(sq64)
            err[unsure] = 1e-8 * ERROR * (sq64 + c_sq.max())
            labels[unsure] = torch.argmin(d2[unsure], dim=1)
            best = d2.gather(1, labels[:, None])
        upper = (best + err).sqrt_().squeeze(1)
        lower = (d2 - err).clamp_(min=0).sqrt_().scatter_(1, labels[:, None], float("inf"))
        return labels, upper, lower

    def rank_all(self, centers: torch.Tensor):
        """`rank` for every point, block by block."""
        parts = [self.rank(slice(start, start + CHUNK), centers) for start in range(0, len(self.x), CHUNK)]
        return tuple(torch.cat(p) for p in zip(*parts))


def nearest(x: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """Index of the nearest centre of each row of `x`, the lowest index winning ties."""
    return _Points(x.to(torch.float32)).rank_all(centers.to(x.device, torch.float32))[0]


class _Clusters:
    """Each cluster's float64 sum and count of points, kept for the current labels."""

    def __init__(self, points: _Points, labels: torch.Tensor, k: int):
        self.points, self.k = points, k
        x = points.x
        self.sums = torch.zeros(k, x.shape[1], dtype=torch.float64, device=x.device)
        for start in range(0, len(x), SMALL_CHUNK):  # small blocks: big float64 copies cost more than they hold
            self.sums.index_add_(0, labels[start:start + SMALL_CHUNK], x[start:start + SMALL_CHUNK].double())
        self.counts = torch.bincount(labels, minlength=k)

    def move(self, rows: torch.Tensor, old: torch.Tensor, new: torch.Tensor) -> None:
        """The points at `rows` leave clusters `old` for clusters `new`."""
        x = self.points.x.index_select(0, rows).double()
        self.sums.index_add_(0, old, x, alpha=-1).index_add_(0, new, x)
        self.counts += torch.bincount(new, minlength=self.k) - torch.bincount(old, minlength=self.k)

    def means(self, old_centers: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The new centres, scikit-learn's way: empty clusters re-homed, then each sum averaged."""
        sums, counts = self.sums, self.counts
        empty = torch.nonzero(counts == 0).flatten()
        if len(empty):
            sums, counts = sums.clone(), counts.clone()
            _relocate(self.points.x, old_centers, labels, empty, sums, counts)
        fresh = (sums / counts.clamp(min=1).unsqueeze(1)).float()
        # a cluster still empty (all points on their centres) sits on the biggest one, as in scikit-learn
        return torch.where((counts > 0).unsqueeze(1), fresh, fresh[torch.argmax(counts)])


def _relocate(x: torch.Tensor, old_centers: torch.Tensor, labels: torch.Tensor, empty: torch.Tensor,
              sums: torch.Tensor, counts: torch.Tensor) -> None:
    """Move each empty cluster onto one of the points farthest from their centres (in place)."""
    c = old_centers.double()
    distances = torch.cat([((x[s:s + SMALL_CHUNK].double() - c[labels[s:s + SMALL_CHUNK]]) ** 2).sum(1)
                           for s in range(0, len(x), SMALL_CHUNK)])
    if distances.max() == 0:  # more clusters than distinct points: moving helps nothing
        return
    far = torch.topk(distances, len(empty)).indices
    for cluster, point in zip(empty.tolist(), far.tolist()):
        source = labels[point]
        sums[source] -= x[point].double()
        counts[source] -= 1
        sums[cluster] = x[point].double()
        counts[cluster] = 1


def _half_gaps(centers: torch.Tensor) -> torch.Tensor:
    """Half the distance from each centre to its nearest other one: a point nearer than that keeps it."""
    c = centers.double()
    return 0.5 * torch.cdist(c, c).fill_diagonal_(float("inf")).min(1).values


class _Assignment:
    """Labels with Elkan's bounds, re-measuring only the points whose bounds do not settle them."""

    def __init__(self, points: _Points, centers: torch.Tensor):
        self.points = points
        self.labels, self.upper, self.lower = points.rank_all(centers)

    def follow(self, centers: torch.Tensor, moved: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """After the centres moved by `moved` (k,), relabel; return the rows that changed, old and new labels."""
        self.upper += moved[self.labels]
        self.lower -= moved
        # settled: nearer its centre than any other centre can be, or than half its centre's gap
        settled = torch.maximum(self.lower.min(1).values, _half_gaps(centers)[self.labels])
        rows = torch.nonzero(self.upper >= settled).flatten()
        if len(rows) > len(self.labels) // 4:  # one pass over all beats gathering most of them
            rows = torch.arange(len(self.labels), device=rows.device)
            labels, self.upper, self.lower = self.points.rank_all(centers)
        elif len(rows):
            labels, self.upper[rows], self.lower[rows] = self.points.rank(rows, centers)
        else:
            return rows, rows, rows
        old = self.labels[rows]
        changed = torch.nonzero(labels != old).flatten()
        rows, old, new = rows[changed], old[changed], labels[changed]
        self.labels[rows] = new
        return rows, old, new


def lloyd(x: torch.Tensor, init: torch.Tensor, *, max_iter: int = 300, tol: float = 1e-4) -> LloydResult:
    """Run Lloyd's k-means on the (N, D) points `x` from the (k, D) centres `init`, on x's device."""
    if x.ndim != 2 or init.ndim != 2 or x.shape[1] != init.shape[1]:
        raise ValueError(f"points {tuple(x.shape)} and centres {tuple(init.shape)} must be (N, D) and (k, D)")
    if len(x) < len(init):
        raise ValueError(f"{len(x)} points cannot fill {len(init)} clusters")
    points = _Points(x.to(torch.float32))
    centers = init.to(x.device, torch.float32)
    n, dim = x.shape
    assignment = _Assignment(points, centers)
    clusters = _Clusters(points, assignment.labels, len(centers))
    # tol scales with the mean per-feature variance, (sum of ||x||^2 - N ||mean||^2) / (N D)
    sq_total = points.sq.sum(dtype=torch.float64)
    mean_sq = (clusters.sums.sum(0) ** 2).sum() / n ** 2
    threshold = tol * (sq_total - n * mean_sq).item() / (n * dim) if tol > 0 else 0.0
    strict = False
    for iteration in range(1, max_iter + 1):
        if iteration > 1:
            changed = assignment.follow(centers, moved)
            strict = len(changed[0]) == 0  # no label changed
            clusters.move(*changed)
        fresh = clusters.means(centers, assignment.labels)
        moved = (fresh.double() - centers.double()).norm(dim=1)  # (k,)
        centers = fresh
        if strict:
            break
        if (moved ** 2).sum().item() <= threshold:  # a device-host sync, once per iteration
            break
    if not strict:  # the labels of the final centres, as scikit-learn reports them
        clusters.move(*assignment.follow(centers, moved))
    c = centers.double()
    inertia = sq_total - 2 * (clusters.sums * c).sum() + (clusters.counts * (c ** 2).sum(1)).sum()
    return LloydResult(centers, assignment.labels, max(inertia.item(), 0.0), iteration)
