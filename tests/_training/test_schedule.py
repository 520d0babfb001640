import pytest

from skdeepcluster._training import constant, warmup_cosine


def test_warmup_is_linear_then_cosine_decays_to_final():
    values = [warmup_cosine(s, 100, 10, final=0.1) for s in range(101)]
    assert values[:10] == pytest.approx([(s + 1) / 10 for s in range(10)])
    assert values[10] == pytest.approx(1.0)
    assert values[100] == pytest.approx(0.1)
    assert all(a >= b for a, b in zip(values[10:], values[11:], strict=False))


def test_negative_step_is_frozen():
    assert warmup_cosine(-1, 100, 10) == 0.0
    assert constant(-3) == 0.0
    assert constant(7) == 1.0


def test_warmup_then_constant():
    from skdeepcluster._training import warmup_constant

    assert [warmup_constant(s, warmup_steps=4) for s in range(6)] == [0.25, 0.5, 0.75, 1, 1, 1]
    assert warmup_constant(5) == 1.0 and warmup_constant(-1, warmup_steps=4) == 0.0
