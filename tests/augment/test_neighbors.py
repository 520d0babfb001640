import pytest
import torch

from skdeepcluster.augment import NeighborSwap, _neighbors, nearest_neighbors


def brute_force(X, k):
    d = torch.cdist(X, X)
    d.fill_diagonal_(float("inf"))
    return d.topk(k, largest=False).indices


def blobs(n, n_features=8, n_blobs=10, seed=0):
    g = torch.Generator().manual_seed(seed)
    centers = torch.randn(n_blobs, n_features, generator=g) * 20
    labels = torch.arange(n) % n_blobs
    return centers[labels] + torch.randn(n, n_features, generator=g)


def recall(found, exact):
    hits = sum(len(set(a) & set(b)) for a, b in zip(found.tolist(), exact.tolist(), strict=True))
    return hits / exact.numel()


@pytest.mark.parametrize("chunk_size", [None, 1, 7, 64, 1000])
def test_exact_search_matches_brute_force(chunk_size):
    X = torch.randn(97, 5, generator=torch.Generator().manual_seed(1))
    got = nearest_neighbors(X, 4, chunk_size=chunk_size, method="exact")
    assert got.dtype == torch.int64 and got.shape == (97, 4)
    assert torch.equal(got, brute_force(X, 4))


def test_exact_search_of_some_rows_matches_brute_force():
    X = torch.randn(60, 3, generator=torch.Generator().manual_seed(2))
    rows = torch.tensor([5, 0, 59, 17])
    got = _neighbors._exact_neighbors(X, 3, rows=rows, chunk_size=3)
    assert torch.equal(got, brute_force(X, 3)[rows])


def test_auto_chunk_size_shrinks_with_n_and_fits_the_budget():
    sizes = [_neighbors._auto_chunk_size(n) for n in (1_000, 70_000, 1_000_000, 10**9)]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > sizes[1] > sizes[2]
    assert sizes[-1] == 1
    for n, rows in zip((1_000, 70_000, 1_000_000), sizes[:3], strict=True):
        assert rows * n * 4 * _neighbors._CHUNK_COPIES <= _neighbors._CHUNK_BYTES
    assert _neighbors._auto_chunk_size(100, budget=100 * 4 * _neighbors._CHUNK_COPIES * 5) == 5


@pytest.mark.parametrize("method", ["fast", "", None, "Exact"])
def test_bad_method_raises(method):
    with pytest.raises(ValueError, match="method"):
        nearest_neighbors(torch.randn(10, 2), 2, method=method)
    with pytest.raises(ValueError, match="method"):
        NeighborSwap(method=method)


def test_bad_chunk_size_raises():
    with pytest.raises(ValueError, match="chunk_size"):
        nearest_neighbors(torch.randn(10, 2), 2, chunk_size=0)


def test_auto_is_exact_up_to_the_threshold_and_on_cuda():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    limit = _neighbors.APPROXIMATE_ABOVE
    assert _neighbors._resolve_method("auto", limit, cpu) == "exact"
    assert _neighbors._resolve_method("auto", limit + 1, cpu) == "approximate"
    assert _neighbors._resolve_method("auto", limit + 1, cuda) == "exact"
    assert _neighbors._resolve_method("approximate", 10, cpu) == "approximate"


def test_missing_library_falls_back_to_exact_with_one_warning(monkeypatch):
    monkeypatch.setattr(_neighbors, "_import_pynndescent", lambda: None)
    monkeypatch.setattr(_neighbors, "APPROXIMATE_ABOVE", 50)
    X = torch.randn(80, 3, generator=torch.Generator().manual_seed(3))
    with pytest.warns(UserWarning, match="pip install pynndescent") as record:
        got = nearest_neighbors(X, 3)
    assert len(record) == 1 and "square" in str(record[0].message)
    assert torch.equal(got, brute_force(X, 3))
    with pytest.raises(ImportError, match="pip install pynndescent"):
        nearest_neighbors(X, 3, method="approximate")


class _FakeNNDescent:
    """A stand-in for pynndescent's graph: the exact neighbours, with defects."""

    calls = []

    def __init__(self, data, n_neighbors, random_state, n_jobs, **kwargs):
        self.calls.append(dict(n_neighbors=n_neighbors, random_state=random_state, n_jobs=n_jobs))
        x = torch.from_numpy(data)
        ids = torch.cat([torch.arange(len(x))[:, None], brute_force(x, n_neighbors - 1)], 1)
        ids[0, 1:] = -1  # a row with too few neighbours
        ids[2, [0, 1]] = ids[2, [1, 0]]  # a row whose own index is not first
        self.neighbor_graph = (ids.numpy(), None)


class _FakePynndescent:
    NNDescent = _FakeNNDescent


def test_approximate_drops_self_and_fills_missing_rows_exactly(monkeypatch):
    monkeypatch.setattr(_neighbors, "_import_pynndescent", lambda: _FakePynndescent)
    monkeypatch.setattr(_neighbors, "_max_numba_threads", lambda: 3)
    X = torch.randn(30, 2, generator=torch.Generator().manual_seed(4))
    _FakeNNDescent.calls.clear()
    threads = torch.get_num_threads()
    torch.set_num_threads(8)
    try:
        got = nearest_neighbors(X, 3, method="approximate", random_state=5)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(got, brute_force(X, 3))
    # a graph of 3 * (3 + 1) < 50 neighbours, capped at N - 1; threads within numba's limit
    assert _FakeNNDescent.calls == [dict(n_neighbors=29, random_state=5, n_jobs=3)]


def test_graph_size_grows_with_k_and_stays_below_n():
    assert _neighbors._graph_size(5, 10**6) == _neighbors._NND_MIN_NEIGHBORS
    assert _neighbors._graph_size(20, 10**6) == 63
    assert _neighbors._graph_size(5, 30) == 29


def test_without_self_keeps_order_and_flags_short_rows():
    ids = torch.tensor([[0, 4, 5], [3, 1, -1], [7, 2, 8]])
    out, short = _neighbors._without_self(ids, 2)
    assert out[0].tolist() == [4, 5] and out[2].tolist() == [7, 8]
    assert out[1, 0] == 3 and short.tolist() == [False, True, False]


@pytest.mark.slow  # numba compiles pynndescent's kernels in each process (about 20 s)
def test_approximate_search_recalls_the_exact_neighbours():
    pytest.importorskip("pynndescent")
    X = blobs(2000)
    exact = nearest_neighbors(X, 5, method="exact")
    a = nearest_neighbors(X, 5, method="approximate", random_state=0)
    b = nearest_neighbors(X, 5, method="approximate", random_state=0)
    assert a.dtype == torch.int64 and a.shape == (2000, 5)
    assert torch.equal(a, b)
    assert (a != torch.arange(2000)[:, None]).all()
    assert recall(a, exact) >= 0.95
    # neighbours are closest first
    d = (X[a] - X[:, None]).norm(dim=2)
    assert (d.diff(dim=1) >= -1e-4).all()
    small = nearest_neighbors(X[:30], 5, method="approximate")
    assert torch.equal(torch.sort(small, 1).values, torch.sort(brute_force(X[:30], 5), 1).values)


def test_neighbor_swap_passes_method_and_seed_through(monkeypatch):
    seen = {}

    def fake(X, n_neighbors, chunk_size=None, method="auto", random_state=None):
        seen.update(method=method, random_state=random_state)
        return brute_force(X.flatten(1), n_neighbors)

    monkeypatch.setattr("skdeepcluster.augment._tabular.nearest_neighbors", fake)
    NeighborSwap(2, method="exact", random_state=7).fit(torch.randn(10, 2))
    assert seen == {"method": "exact", "random_state": 7}
