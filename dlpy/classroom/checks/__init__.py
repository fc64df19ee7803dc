"""The autograded exercises' checks, one module per chapter (``chapter_01`` ... ``chapter_21``).

A check is a plain function whose parameters are the names a student defines (otter-grader passes
them from the notebook's namespace) and that raises ``AssertionError`` with a message that helps:
what was expected, what came back, and what to look at. ``dlpy assign`` copies each check's source
into the chapter's autograder as an exception-based otter test, so a check must import what it uses
inside its body. Each chapter module also names one deliberately wrong answer per autograded
question (``WRONG_ANSWERS``), which the tests grade to show that the checks catch it.

Example::

    @check("q2", points=1)
    def test_shape(binary_crossentropy_by_hand):
        import numpy as np
        assert np.shape(binary_crossentropy_by_hand([1, 0], [0.9, 0.2])) == (), "return one number"
"""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from dlpy import lazy_submodules

__getattr__ = lazy_submodules(__name__)


@dataclass(frozen=True)
class Check:
    """One otter test case: ``function``'s parameters are looked up in the student's namespace."""

    question: str
    function: Callable
    points: float = 1.0
    hidden: bool = False

    @property
    def name(self) -> str:
        return self.function.__name__

    @property
    def parameters(self) -> list[str]:
        return list(inspect.signature(self.function).parameters)

    @property
    def source(self) -> str:
        """The otter test: the function's definition without its decorator, its body run inside
        :func:`explain_errors` so that a student's exception is a failed check with a message."""
        lines = textwrap.dedent(inspect.getsource(self.function)).splitlines()
        lines = lines[next(i for i, line in enumerate(lines) if line.startswith("def ")):]
        definition = ast.parse("\n".join(lines)).body[0]
        first = definition.body[0].lineno - 1  # the body's first line, after a signature on several lines
        body = ["    " + line if line.strip() else line for line in lines[first:]]
        parameters = ", ".join(f"{name}={name}" for name in self.parameters)
        guard = ["    from dlpy.classroom.checks import explain_errors, require_defined", "",
                 f"    require_defined({parameters})", "    with explain_errors():"]
        return "\n".join(lines[:first] + guard + body) + "\n"

    def run(self, namespace: dict) -> None:
        """Run the check as otter does, with the names it needs from ``namespace`` (a notebook's
        globals; otter passes None for a name the notebook lacks, which the check reports as undefined)."""
        compiled = {}
        exec(compile(self.source, f"<check {self.name}>", "exec"), compiled)  # noqa: S102 (our own checks)
        compiled[self.name](**{name: namespace.get(name) for name in self.parameters})  # otter passes None too


@dataclass
class ChapterChecks:
    """A chapter's checks by question, and one deliberately wrong answer (source code) per question."""

    chapter: str
    checks: list[Check] = field(default_factory=list)
    wrong_answers: dict[str, str] = field(default_factory=dict)

    def questions(self) -> list[str]:
        return sorted({c.question for c in self.checks}, key=lambda q: (len(q), q))

    def for_question(self, question: str) -> list[Check]:
        return [c for c in self.checks if c.question == question]


def check(question: str, points: float = 1.0, hidden: bool = False):
    """Register the decorated function as a check of ``question`` (``"q1"``, ``"q2"``...) in the
    calling chapter module. ``hidden`` checks run only when grading (students see the public ones)."""

    def register(function: Callable) -> Callable:
        module = inspect.getmodule(function)
        registry = module.__dict__.setdefault("CHECKS", [])
        registry.append(Check(question, function, points, hidden))
        return function

    return register


def chapter_checks(chapter: str) -> ChapterChecks:
    """The checks of ``chapter`` (``"01_imdb"``, ``"01"`` or ``1``), from ``chapter_NN``."""
    number = str(chapter).split("_")[0].zfill(2)
    if not number.isdigit():
        raise ValueError(f"chapter {chapter!r} is not a chapter: use its number or slug, e.g. '01' or '01_imdb'.")
    try:
        module = importlib.import_module(f"{__name__}.chapter_{number}")
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.chapter_{number}":
            raise
        raise ValueError(f"chapter {chapter!r} has no exercise checks (no dlpy/classroom/checks/chapter_{number}.py)."
                         ) from None
    return ChapterChecks(str(chapter), list(getattr(module, "CHECKS", [])), dict(getattr(module, "WRONG_ANSWERS", {})))


def expect_close(got, expected, call: str, tolerance: float = 1e-6) -> None:
    """Assert that ``got`` (what the student's ``call`` returned) equals ``expected`` to a relative
    error below ``tolerance`` (or, for entries near zero, within ``tolerance`` of the largest expected
    magnitude), with a message that shows the call, the shapes or the first difference."""
    import numpy as np

    from dlpy.course.checks import rel_error

    if got is None:
        raise AssertionError(f"{call} returned None: the function has no `return` yet.")
    try:
        got = np.asarray(got, dtype="float64")
    except (TypeError, ValueError):
        raise AssertionError(f"{call} returned {type(got).__name__}, which is not an array of numbers.") from None
    expected = np.asarray(expected, dtype="float64")
    if got.shape != expected.shape:
        raise AssertionError(f"{call} returned shape {got.shape}; expected shape {expected.shape}.")
    if not np.all(np.isfinite(got)):
        raise AssertionError(f"{call} returned NaN or infinite values: {got.ravel()[:6]}")
    error = rel_error(got, expected)
    # near-zero entries: a difference within `tolerance` of the data's largest magnitude is rounding
    within_scale = np.max(np.abs(got - expected), initial=0.0) <= tolerance * np.max(np.abs(expected), initial=0.0)
    if error > tolerance and not within_scale:
        where = np.unravel_index(np.argmax(np.abs(got - expected)), got.shape) if got.shape else ()
        raise AssertionError(f"{call}: relative error {error:.1e} (allowed {tolerance:.0e}); at index "
                             f"{tuple(map(int, where))} you return {got[where]:.6g}, "
                             f"the reference gives {expected[where]:.6g}.")


@contextmanager
def explain_errors():
    """Turn an exception raised by a student's code inside a check into a failed check that says what
    happened (``AssertionError`` passes through unchanged)."""
    try:
        yield
    except AssertionError:
        raise
    except Exception as error:  # noqa: BLE001  (any error in a student's answer is a failed check)
        hint = " (a function whose body is still `...` returns None: write its body and `return` the result)" \
            if "NoneType" in str(error) else ""
        raise AssertionError(f"your code raised {type(error).__name__}: {error}{hint}") from error


def require_defined(**names) -> None:
    """Fail with a clear message for every name the notebook does not define (otter passes None)."""
    missing = [name for name, value in names.items() if value is None]
    if missing:
        raise AssertionError(f"{', '.join(missing)} is not defined: run the cell that defines it first.")


def expect_keras_parameter_counts(function, name: str, layer_type: str, cases) -> None:
    """Assert that ``function(kernel_size, in_channels, filters)`` counts the parameters Keras's
    ``layer_type`` (``"Conv2D"``, ``"SeparableConv2D"``) has, for each ``(kernel, channels, filters)``."""
    import keras

    for kernel, channels, filters in cases:
        layer = getattr(keras.layers, layer_type)(filters, kernel)
        layer.build((None, 20, 20, channels))
        got = function(kernel, channels, filters)
        assert got == layer.count_params(), (f"{name}({kernel}, {channels}, {filters}) returned {got!r}; Keras's "
                                             f"{layer_type} has {layer.count_params()}")
