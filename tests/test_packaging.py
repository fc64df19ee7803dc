"""pyproject.toml is the single dependency list; environment.yml only brings Python and pip."""

from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_environment_yml_installs_the_project_and_only_programs_pip_cannot():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in environment["dependencies"] if isinstance(d, str)]
    pip = [d["pip"] for d in environment["dependencies"] if isinstance(d, dict)]
    assert sorted(c.split("=")[0] for c in conda) == ["graphviz", "pip", "python"]  # graphviz: the dot program
    assert pip == [["-e .[dev]"]]


def test_environment_python_satisfies_requires_python():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    python = next(d for d in environment["dependencies"] if isinstance(d, str) and d.startswith("python"))
    major, minor = (int(x) for x in python.split("=")[1].split(".")[:2])
    required = pyproject["project"]["requires-python"].removeprefix(">=")
    assert (major, minor) >= tuple(int(x) for x in required.split("."))


def test_dev_extra_has_the_test_tools():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    dev = " ".join(pyproject["project"]["optional-dependencies"]["dev"])
    for tool in ("pytest", "nbval", "pytest-xdist", "ruff"):
        assert tool in dev


def test_gpu_check_script_parses_and_covers_its_steps():
    import subprocess

    script = ROOT / "benchmarks" / "gpu_check.sh"
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0
    text = script.read_text()
    for step in ('.[$extras]', "dev,gpu", "dlpy doctor", "--profile smoke", "benchmarks/bench_*.py",
                 "for chapter in 05 10 15", "--profile full"):
        assert step in text, step
