"""Chapter 16 (dlpy.course.strategy): one strategy per process; training mirrored on two logical
CPU devices matches training on one device. TensorFlow can split its CPU only before it starts, so
the check (``dlpy.practices.mirrored_check``) runs in a fresh process."""

import pytest

from dlpy.practices.mirrored_check import run_in_fresh_process


def test_mirrored_training_on_two_logical_cpus_matches_one_device():
    replicas, error = run_in_fresh_process(2)
    assert replicas == 2
    assert error < 1e-5


def test_the_strategy_is_created_once_per_process():
    import dlpy
    from dlpy.course.strategy import distribution_strategy

    cfg = dlpy.setup("99_strategy", profile="smoke", quiet=True)
    assert cfg.strategy is distribution_strategy() is cfg.strategy


def test_a_bad_device_count_says_what_to_do(monkeypatch):
    from dlpy.course import strategy

    monkeypatch.setenv(strategy.LOGICAL_CPUS, "one")
    with pytest.raises(ValueError, match="DLPY_LOGICAL_CPUS must be an integer of at least 2"):
        strategy.split_cpu_if_asked()
