"""Grading a folder of student notebooks (``dlpy grade``) with otter-grader, without Docker.

Each submission is executed in a fresh kernel under the ``smoke`` profile (so grading a chapter takes
about as long as running it in ``smoke``), then the chapter's checks run against what it defined:
public and hidden ones. Results go to one CSV (student, chapter, question, points, max points), one
Markdown feedback file per student and chapter that says, for each question, which checks failed and
why, and one file per written question with every student's answer, for the teacher to read.

Submissions are ``SUBMISSIONS/<student>.ipynb`` or ``SUBMISSIONS/<student>/<anything>.ipynb``; the
chapter comes from ``--chapter`` or from the notebook itself (otter writes the assignment name into
every student edition). Autograders come from ``dlpy assign`` (built on demand when missing).
"""

from __future__ import annotations

import csv
import json
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dlpy.classroom.assign import assign
from dlpy.classroom.checks import chapter_checks

GRADING_PROFILE = "smoke"


@dataclass
class QuestionGrade:
    question: str
    points: float
    max_points: float
    failures: list[str] = field(default_factory=list)  # one line per failed check: name and message


@dataclass
class SubmissionGrade:
    student: str
    chapter: str
    path: Path
    questions: list[QuestionGrade]
    seconds: float
    error: str | None = None  # a submission that could not be graded at all

    @property
    def points(self) -> float:
        return sum(q.points for q in self.questions)

    @property
    def max_points(self) -> float:
        return sum(q.max_points for q in self.questions)

    def feedback(self) -> str:
        """What the student reads: a score per question and, for each failed check, its message."""
        lines = [f"# {self.chapter}: {self.student}", "", f"Total: {self.points:g} / {self.max_points:g} points", ""]
        if self.error:
            lines += [f"This notebook could not be graded: {self.error}", ""]
        for question in self.questions:
            status = "all checks passed" if not question.failures else f"{len(question.failures)} check(s) failed"
            lines.append(f"## {question.question}: {question.points:g} / {question.max_points:g} ({status})")
            lines += [f"- {failure}" for failure in question.failures]
            lines.append("")
        return "\n".join(lines)


@contextmanager
def _environment(**values):
    old = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def submissions_in(folder: Path) -> list[tuple[str, Path]]:
    """``(student, notebook)`` pairs: ``folder/<student>.ipynb`` or ``folder/<student>/<name>.ipynb``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"submissions folder {str(folder)!r} does not exist: give the folder of collected notebooks.")
    found = [(p.stem, p) for p in sorted(folder.glob("*.ipynb"))]
    found += [(p.parent.name, p) for p in sorted(folder.glob("*/*.ipynb")) if ".ipynb_checkpoints" not in p.parts]
    if not found:
        raise ValueError(f"no notebooks in {str(folder)!r}: expected <student>.ipynb or <student>/<notebook>.ipynb.")
    return found


def _notebook_json(notebook: Path) -> dict:
    """A submission as JSON; an unreadable one is empty (grading reports it, nothing else must crash)."""
    try:
        return json.loads(Path(notebook).read_text())
    except (OSError, ValueError):
        return {}


def chapter_of(notebook: Path) -> str | None:
    """The chapter an otter student edition was built from (its assignment name), if it says."""
    return _notebook_json(notebook).get("metadata", {}).get("otter", {}).get("assignment_name")


def _failure(case, name: str) -> str:
    kind = "hidden check" if case.test_case.hidden else "check"
    message = (case.message or "").strip().splitlines()
    reason = next((line for line in reversed(message) if line.strip()), "failed")
    reason = reason.removeprefix("AssertionError: ")
    return f"{kind} `{name}`: {reason}"


def written_answers(notebook: Path) -> dict[str, str]:
    """The answers to the written (manually graded) questions in a student notebook: question -> text."""
    cells = _notebook_json(notebook).get("cells", [])
    answers, question = {}, None
    for cell in cells:
        mark = cell.get("metadata", {}).get("dlpy", {})
        if mark.get("manual"):
            question = mark.get("question")
        elif question and "otter_answer_cell" in cell.get("metadata", {}).get("tags", []):
            answers[question] = "".join(cell.get("source", "")).strip()
            question = None
    return answers


def grade_one(student: str, notebook: Path, chapter: str, autograder_zip: Path) -> SubmissionGrade:
    """Grade one notebook with otter (no Docker), in the grading profile, with a build folder of its
    own (results and checkpoints of one student never reach another's run or the teacher's build/)."""
    import tempfile

    from otter.api import grade_submission

    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="dlpy-grade-") as build, \
                _environment(DLPY_PROFILE=GRADING_PROFILE, MPLBACKEND="Agg", DLPY_BUILD_DIR=build):
            results = grade_submission(str(notebook), str(autograder_zip), quiet=True)
    except Exception as error:  # noqa: BLE001  (a broken submission is a zero with a reason, not a crash)
        return SubmissionGrade(student, chapter, notebook, [], time.perf_counter() - started,
                               f"{type(error).__name__}: {error}")
    checks, questions = chapter_checks(chapter), []
    for name, result in sorted(results.results.items(), key=lambda item: (len(item[0]), item[0])):
        names = [c.name for c in checks.for_question(name)]  # otter numbers the cases in the checks' order
        names = names if len(names) == len(result.test_case_results) else [c.test_case.name for c in
                                                                             result.test_case_results]
        failures = [_failure(case, check_name) for case, check_name in zip(result.test_case_results, names)
                    if not case.passed]
        questions.append(QuestionGrade(name, float(result.score), float(result.possible), failures))
    error = str(results.catastrophic_error) if results.catastrophic_error else None
    return SubmissionGrade(student, chapter, notebook, questions, time.perf_counter() - started, error)


def grade(submissions: Path, out: Path, chapter: str | None = None, autograders: Path | None = None,
          notebooks: Path | None = None) -> list[SubmissionGrade]:
    """Grade every notebook in ``submissions`` into ``out/grades.csv``, ``out/feedback/<student>_<chapter>.md``
    and, for the written questions, ``out/written/<chapter>_<question>.md`` (every student's answer).

    Args:
        submissions: the folder of collected notebooks.
        out: where the CSV and the feedback go.
        chapter: the chapter slug all submissions answer (default: read from each notebook).
        autograders: the ``autograder/`` folder of ``dlpy assign`` (default ``out/../autograder``);
            a missing chapter's autograder is built there from ``notebooks``.
        notebooks: the chapter notebooks, to build missing autograders.

    Example::

        grade(Path("collected/01"), Path("build/classroom/grades/01"), chapter="01_imdb")
    """
    out = Path(out)
    autograders = Path(autograders) if autograders else out.parent / "autograder"
    grades = []
    for student, notebook in submissions_in(submissions):
        slug = chapter or chapter_of(notebook)
        if not slug:
            grades.append(SubmissionGrade(student, "?", notebook, [], 0.0,
                                          "the notebook does not say which chapter it is: pass --chapter NN"))
            continue
        zip_path = autograders / slug / "autograder.zip"
        if not zip_path.exists():
            if notebooks is None or not (Path(notebooks) / f"{slug}.ipynb").exists():
                grades.append(SubmissionGrade(student, slug, notebook, [], 0.0, f"no autograder for {slug} in "
                                              f"{str(autograders)!r}: run `dlpy assign {slug[:2]}` first"))
                continue
            assign([Path(notebooks) / f"{slug}.ipynb"], autograders.parent)
        grades.append(grade_one(student, notebook, slug, zip_path))
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    with open(out / "grades.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "chapter", "question", "points", "max_points"])
        for result in grades:
            for question in result.questions:
                writer.writerow([result.student, result.chapter, question.question, f"{question.points:g}",
                                 f"{question.max_points:g}"])
            if not result.questions:
                writer.writerow([result.student, result.chapter, "(not graded)", "0", "0"])
    written = {}
    for result in grades:
        (out / "feedback" / f"{result.student}_{result.chapter}.md").write_text(result.feedback())
        for question, answer in written_answers(result.path).items():
            written.setdefault((result.chapter, question), []).append(f"## {result.student}\n\n{answer}\n")
    if written:
        (out / "written").mkdir(exist_ok=True)
    for (chapter_slug, question), answers in written.items():  # one file a question: read them side by side
        (out / "written" / f"{chapter_slug}_{question}.md").write_text(
            f"# {chapter_slug} {question}: written answers\n\n" + "\n".join(answers))
    return grades
