"""Chapter 16 (dlpy.course.strategy): one strategy per process; training mirrored on two logical
CPU devices matches training on one device. TensorFlow can split its CPU only before it starts, so
the check (``dlpy.practices.mirrored_check``) runs in a fresh process."""

import os
import subprocess
import sys

import pytest


def run_check(logical_cpus):
    env = dict(os.environ, DLPY_LOGICAL_CPUS=logical_cpus, CUDA_VISIBLE_DEVICES="")
    return subprocess.run([sys.executable, "-m", "dlpy.practices.mirrored_check"], capture_output=True, text=True,
                          env=env, timeout=300)


def test_mirrored_training_on_two_logical_cpus_matches_one_device():
    result = run_check("2")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "REPLICAS 2" in result.stdout, result.stdout
    error = float(result.stdout.split("RELATIVE_ERROR")[1])
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
