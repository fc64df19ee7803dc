"""The package's layout is its architecture: one home per concern, dependencies in one direction,
no reaching into another module's private names, every part importable on first use, and the
README and CONTRIBUTING describing exactly the parts that exist."""

import ast
import importlib
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import dlpy

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "dlpy"

# Each top-level part may import only parts of a lower rank (and itself): course <- data, images <-
# models, plots <- training, viz, generative, sequences, workflow, practices <- classroom (whose checks use them all).
RANK = {"course": 0, "data": 1, "images": 1, "models": 2, "plots": 2, "training": 3, "viz": 3, "generative": 3,
        "sequences": 3, "workflow": 3, "practices": 3, "classroom": 4}
# The `dlpy` command is the course's front door: it lists data files too (`dlpy data`), so it sits on top.
ON_TOP = {"dlpy.course.cli"}


def modules() -> list[str]:
    return sorted(info.name for info in pkgutil.walk_packages([str(PACKAGE)], prefix="dlpy."))


def top_level_parts() -> set[str]:
    return {p.name if p.is_dir() else p.stem for p in PACKAGE.iterdir()
            if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py" and p.stem != "__init__")}


def source(module: str) -> Path:
    path = PACKAGE.joinpath(*module.split(".")[1:])
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def dlpy_imports(module: str):
    """``(imported module, imported names)`` of every ``dlpy`` import in ``module``, at any depth."""
    for node in ast.walk(ast.parse(source(module).read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "dlpy":
            yield node.module, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "dlpy":
                    yield alias.name, []


def test_every_top_level_part_has_a_rank():
    assert top_level_parts() == set(RANK)


def test_dependencies_run_one_way():
    wrong = []
    for module in sorted(set(modules()) - ON_TOP):
        part = module.split(".")[1]
        for imported, names in dlpy_imports(module):
            targets = [imported] if imported != "dlpy" else [f"dlpy.{n}" for n in names]
            for target in targets:
                other = target.split(".")[1] if "." in target else None
                if other in RANK and other != part and RANK[other] >= RANK[part]:
                    wrong.append(f"{module} imports {target}")
    assert not wrong, "imports against the layering:\n" + "\n".join(wrong)


def test_no_module_imports_another_modules_private_names():
    private = []
    for module in modules():
        for imported, names in dlpy_imports(module):
            private += [f"{module}: from {imported} import {n}" for n in names
                        if n.startswith("_") and not n.startswith("__") and imported != module]
    assert not private, "\n".join(private)


@pytest.mark.parametrize("module", modules())
def test_every_module_is_reachable_lazily_from_dlpy(module):
    found = dlpy
    for name in module.split(".")[1:]:
        found = getattr(found, name)
    assert found is importlib.import_module(module)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'validation'"):
        dlpy.validation  # noqa: B018  (it moved into dlpy.training)
    with pytest.raises(AttributeError, match="'dlpy.viz' has no attribute 'nope'"):
        dlpy.viz.nope  # noqa: B018


def test_the_course_machinery_does_not_load_tensorflow():
    code = ("import sys, dlpy, dlpy.course.cli, dlpy.course.runner, dlpy.course.notebooks, dlpy.course.results; "
            "print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def layout_section(path: Path) -> str:
    text = path.read_text()
    match = re.search(r"^## Layout\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, f"{path.name} has no '## Layout' section"
    return match.group(1)


@pytest.mark.parametrize("document", ["README.md", "CONTRIBUTING.md"])
def test_layout_sections_name_exactly_the_packages_parts(document):
    named = set(re.findall(r"`dlpy/(\w+)(?:/|\.py)`", layout_section(ROOT / document)))
    assert named == top_level_parts(), f"{document}: names {sorted(named)}, the package has {sorted(top_level_parts())}"


def public_functions():
    for module in modules():
        for node in ast.walk(ast.parse(source(module).read_text())):
            if isinstance(node, ast.ClassDef):
                methods = [n for n in node.body if isinstance(n, ast.FunctionDef)]
                yield from ((f"{module}.{node.name}.{m.name}", m) for m in methods if not m.name.startswith("_"))
        tree = ast.parse(source(module).read_text())
        yield from ((f"{module}.{n.name}", n) for n in tree.body
                    if isinstance(n, ast.FunctionDef) and not n.name.startswith("_"))


def test_public_apis_with_six_or_more_parameters_document_them():
    missing = []
    for name, node in public_functions():
        arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
        parameters = [a.arg for a in arguments if a.arg not in ("self", "cls")]
        doc = ast.get_docstring(node) or ""
        if len(parameters) >= 6:
            args = doc.split("Args:", 1)[1] if "Args:" in doc else ""
            undocumented = [p for p in parameters if not re.search(rf"\b{p}\b", args)]
            if not args or undocumented or "Example" not in doc:
                missing.append(f"{name}: Args section {'missing' if not args else f'lacks {undocumented}'}"
                               + ("" if "Example" in doc else ", no example"))
    assert not missing, "\n".join(missing)
