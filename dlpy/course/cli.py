"""The ``dlpy`` command: run the course, check the setup, list data and results, store notebooks clean, and
build and grade classroom assignments (``dlpy assign``, ``dlpy grade``; the ``classroom`` extra)."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path


def _selected_chapters(args, verb: str) -> list[Path]:
    """The chapters named on the command line, or all of them with ``--all`` (ValueError if neither)."""
    from dlpy.course import notebooks

    if not args.chapters and not args.all:
        raise ValueError(f"Name chapters (`dlpy {verb} 01 05`) or take them all (`dlpy {verb} --all`).")
    folder = Path(args.notebooks) if args.notebooks else None
    return notebooks.chapters(folder) if args.all else notebooks.select(args.chapters, folder)


def _cmd_run(args) -> int:
    from dlpy.course import runner
    from dlpy.course.results import ResultsFileError, build_dir, format_table, load_results
    from dlpy.course.settings import resolve_profile

    try:
        selected = _selected_chapters(args, "run")
        profile = resolve_profile(args.profile)
    except (ValueError, FileNotFoundError) as error:
        print(error, file=sys.stderr)
        return 2
    build = (Path(args.build_dir) if args.build_dir else build_dir()).resolve()  # the kernel runs elsewhere
    print(f"Running {len(selected)} notebook(s), profile {profile}, into {build}/", flush=True)
    failures, finished, current = [], [], None
    with runner.StopSignals() as stop:
        try:
            for number, path in enumerate(selected, 1):
                current = path
                print(f"[{number}/{len(selected)}] {path.stem}", flush=True)
                result = runner.execute(path, profile, build, timeout=args.timeout, html=not args.no_html, stop=stop)
                if result.stopped or stop.signal:
                    break
                print(f"  {'ok' if result.ok else 'FAILED'} in {result.seconds:.1f} s", flush=True)
                finished.append(path)
                for warning in result.warnings:
                    print(f"  printed a warning: {warning}")
                if not result.ok:
                    failures.append(result)
                    print(f"  {path} failed at {result.error}", file=sys.stderr)
        except KeyboardInterrupt:
            stop.signal = stop.signal or "SIGINT"
    if stop.signal:
        done = ", ".join(p.stem for p in finished) or "none"
        rest = ", ".join(p.stem for p in selected[len(finished) + 1:]) or "none"
        print(f"\nStopped by {stop.signal} during {current.stem if current else 'start-up'}; its kernel was shut "
              f"down.\nFinished: {done}.\nNot run: {rest}.", file=sys.stderr)
        return 130
    chapters = {p.stem for p in selected}
    try:
        rows = [r for r in load_results(build / "results.json") if r["chapter"] in chapters and r["profile"] == profile]
    except ResultsFileError as error:
        print(error, file=sys.stderr)
        return 1
    print()
    print(format_table(rows))
    if failures:
        print(f"\n{len(failures)} notebook(s) failed: {', '.join(f.notebook.stem for f in failures)}", file=sys.stderr)
        return 1
    return 0


def _positive_seconds(text: str) -> int:
    try:
        seconds = int(text)
    except ValueError:
        seconds = 0
    if seconds < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds: give e.g. --timeout 600, "
                                         "or leave it out for no limit")
    return seconds


def _cmd_results(args) -> int:
    from dlpy.course.results import ResultsFileError, format_table, load_results, results_path

    try:
        rows = load_results()
    except ResultsFileError as error:
        print(f"dlpy results: {error}", file=sys.stderr)
        return 1
    if args.profile:
        rows = [r for r in rows if r["profile"] == args.profile]
    print(f"{results_path()}\n")
    print(format_table(rows))
    return 0


def _cmd_data(args) -> int:
    from dlpy.data.registry import REGISTRY, check, keras_home, link_cache

    try:
        home = keras_home()
        if args.link:
            made = link_cache(Path(args.link))
            print(f"Linked {len(made)} file(s) from {args.link} into {home}")
    except ValueError as error:
        print(f"dlpy data: {error}", file=sys.stderr)
        return 2
    print(f"Keras cache: {home}\n")
    width = max(len(name) for name in REGISTRY)
    counts = {}
    for entry in REGISTRY.values():
        state, problem = check(entry)
        counts[state] = counts.get(state, 0) + 1
        size = f"{entry.size / 1e6:8.1f} MB" if entry.size else " " * 11
        print(f"{entry.name:<{width}}  {state:<8} {size}  {entry.cache_subdir}/{entry.fname}")
        if state == "corrupt":
            print(f"{'':<{width}}  {problem}: delete it (rm '{entry.path}') and load it again, or --link a good copy")
    print("\n" + ", ".join(f"{n} {state}" for state, n in sorted(counts.items())))
    return 1 if counts.get("corrupt") else 0


def _cmd_doctor(args) -> int:
    import platform

    import keras
    import numpy
    import tensorflow as tf

    import dlpy
    from dlpy.course.results import build_dir
    from dlpy.course.settings import describe_device, resolve_profile
    from dlpy.data.registry import REGISTRY, is_writable, keras_home, status

    print(f"dlpy        {dlpy.__version__}")
    print(f"Python      {platform.python_version()}")
    print(f"Keras       {keras.__version__} (backend: {keras.backend.backend()})")
    print(f"TensorFlow  {tf.__version__} (built with CUDA: {tf.test.is_built_with_cuda()})")
    print(f"NumPy       {numpy.__version__}")
    print(f"device      {describe_device()}")
    try:
        print(f"profile     {resolve_profile()} (DLPY_PROFILE or the device decides)")
        home = keras_home()
    except ValueError as error:
        print(f"problem     {error}", file=sys.stderr)
        return 2
    writable = "" if is_writable(home) else " (read-only: files already there work; downloads need a writable cache)"
    print(f"KERAS_HOME  {home}{writable}")
    print(f"build       {build_dir()}")
    states = {name: status(entry) for name, entry in REGISTRY.items()}
    present = [n for n, s in states.items() if s == "present"]
    print(f"data        {len(present)}/{len(states)} files cached")
    for name, state in states.items():
        if state != "present":
            print(f"  {state:<8} {name}: {REGISTRY[name].note or REGISTRY[name].description}")
    return 0


def _cmd_strip(args) -> int:

    from dlpy.course import runner

    status_code = 0
    with runner.StopSignals() as stop:
        for name in args.notebooks:
            status_code = max(status_code, _strip_one(Path(name), args.execute, stop))
            if stop.signal:
                print(f"Stopped by {stop.signal} at {name}; the notebooks after it were not stored.", file=sys.stderr)
                return 130
    return status_code


def _strip_one(path: Path, execute: bool, stop) -> int:
    """Store one notebook clean (after running it under ``smoke`` when ``execute``); the exit code."""
    import nbformat

    from dlpy.course import notebooks, runner

    if execute:
        with tempfile.TemporaryDirectory() as tmp:
            result = runner.execute(path, "smoke", Path(tmp), html=False, stop=stop)
            if result.stopped:
                return 130
            if not result.ok:
                print(f"{path}: execution failed, left unchanged\n  {result.error}", file=sys.stderr)
                return 1
            notebook = nbformat.read(result.executed, as_version=4)
    else:
        notebook = nbformat.read(path, as_version=4)
    notebooks.strip(notebook)
    nbformat.write(notebook, path)
    checked = sum(notebooks.is_checked(c) for c in notebook.cells)
    print(f"{path}: stored clean ({checked} checked cell(s) keep their outputs)")
    return 0


def _classroom_dir(args) -> Path:
    from dlpy.course.results import build_dir

    return Path(args.out) if args.out else build_dir() / "classroom"


def _cmd_assign(args) -> int:
    try:
        selected = _selected_chapters(args, "assign")
        from dlpy.classroom.assign import assign
    except (ValueError, FileNotFoundError, ImportError) as error:
        print(error, file=sys.stderr)
        return 2
    out = _classroom_dir(args)
    started = time.perf_counter()
    try:
        built = assign(selected, out)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 1
    for item in built:
        print(f"{item.chapter}: {item.student.relative_to(out)}, {item.autograder_zip.relative_to(out)} "
              f"({item.seconds:.1f} s)")
    print(f"{len(built)} chapter(s) in {time.perf_counter() - started:.1f} s. Hand out {out / 'student'}/; "
          f"grade with `dlpy grade <folder of collected notebooks> --out {out}`.")
    return 0


def _cmd_grade(args) -> int:
    from dlpy.course import notebooks

    out = _classroom_dir(args)
    grades_dir = out / "grades"
    try:
        from dlpy.classroom.grade import grade

        folder = Path(args.notebooks) if args.notebooks else notebooks.notebooks_dir()
        chapter = notebooks.select([args.chapter], folder)[0].stem if args.chapter else None
        grades = grade(Path(args.submissions), grades_dir, chapter=chapter, autograders=out / "autograder",
                       notebooks=folder)
    except (ValueError, FileNotFoundError, ImportError) as error:
        print(error, file=sys.stderr)
        return 2
    for result in grades:
        print(f"{result.student:20s} {result.chapter:28s} {result.points:g} / {result.max_points:g}  "
              f"({result.seconds:.0f} s){'  ' + result.error if result.error else ''}")
    print(f"{len(grades)} submission(s): {grades_dir / 'grades.csv'}, feedback in {grades_dir / 'feedback'}/")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dlpy", description="Deep Learning with Python, runnable.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="execute chapters headless into build/ and print their results")
    run.add_argument("chapters", nargs="*", help="chapter numbers or slugs (01, 5, grad_cam)")
    run.add_argument("--all", action="store_true", help="every chapter, in order")
    run.add_argument("--profile", choices=["smoke", "quick", "full"], help="default: $DLPY_PROFILE, else by device")
    run.add_argument("--build-dir", help="default: build/ in the checkout")
    run.add_argument("--timeout", type=_positive_seconds, default=None,
                     help="seconds allowed per cell (default: no limit)")
    run.add_argument("--notebooks", metavar="DIR", help="the folder of NN_slug.ipynb chapters (default: notebooks/)")
    run.add_argument("--no-html", action="store_true", help="skip the HTML copies")
    run.set_defaults(func=_cmd_run)

    results = sub.add_parser("results", help="print the results table")
    results.add_argument("--profile", choices=["smoke", "quick", "full"])
    results.set_defaults(func=_cmd_results)

    data = sub.add_parser("data", help="list every data and weight file: present, missing or corrupt")
    data.add_argument("--link", metavar="DIR", help="first link the files of an offline copy (laid out like "
                                                     "the Keras cache) into $KERAS_HOME")
    data.set_defaults(func=_cmd_data)

    doctor = sub.add_parser("doctor", help="versions, devices, profile, cache and data")
    doctor.set_defaults(func=_cmd_doctor)

    strip = sub.add_parser("strip", help="store notebooks clean: outputs only in # NBVAL_CHECK_OUTPUT cells")
    strip.add_argument("notebooks", nargs="+")
    strip.add_argument("--execute", action="store_true", help="first execute under the smoke profile")
    strip.set_defaults(func=_cmd_strip)

    assign = sub.add_parser("assign", help="build student editions and autograders (otter-grader) of chapters")
    assign.add_argument("chapters", nargs="*", help="chapter numbers or slugs (01, 5, grad_cam)")
    assign.add_argument("--all", action="store_true", help="every chapter")
    assign.add_argument("--out", metavar="DIR", help="default: build/classroom (DIR/student/, DIR/autograder/)")
    assign.add_argument("--notebooks", metavar="DIR", help="the folder of NN_slug.ipynb chapters (default: notebooks/)")
    assign.set_defaults(func=_cmd_assign)

    grade = sub.add_parser("grade", help="grade a folder of student notebooks into a CSV and feedback files")
    grade.add_argument("submissions", help="a folder of <student>.ipynb or <student>/<notebook>.ipynb")
    grade.add_argument("--chapter", help="the chapter every submission answers (default: read from each notebook)")
    grade.add_argument("--out", metavar="DIR", help="the dlpy assign folder (default: build/classroom); grades go to "
                                                    "DIR/grades/")
    grade.add_argument("--notebooks", metavar="DIR", help="the chapters, to build a missing autograder")
    grade.set_defaults(func=_cmd_grade)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
