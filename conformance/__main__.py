"""``python -m conformance MODULE``: validate an implementation against the spec and print the scorecard."""

from __future__ import annotations

import argparse
import sys
import time

from conformance import devices, profiles
from conformance.examples import ExamplesOutcome, examples_pass, pages_of, run_examples, summary_line
from conformance.report import check_writable, scorecard, to_json, verdict, write_json
from conformance.runner import cases, load_failure, load_implementation, nothing_found, nothing_selected, run_check
from conformance.stdout import CLOSED_STATUS, Stdout


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m conformance",
        description="Check an implementation of the torch.nn pieces a GPT is built from against PyTorch.",
    )
    parser.add_argument("module", help="importable module of the implementation under test, e.g. impl or torch")
    parser.add_argument("--map", dest="map_file", help="TOML map file: component = 'module:attr' overrides")
    parser.add_argument("--strict", action="store_true", help="unsupported and missing components fail the run")
    parser.add_argument("--json", dest="json_file", help="write the scorecard and every failure to this file")
    parser.add_argument("--profile", choices=profiles.PROFILES, default="dev", help="hypothesis profile (dev)")
    parser.add_argument(
        "--device",
        help="run the numerical checks on this device, e.g. cuda or cuda:1 (default: $NNSPEC_DEVICE, else cpu)",
    )
    parser.add_argument("-k", dest="keyword", help="only checks whose 'component-check' matches, pytest-style")
    parser.add_argument(
        "--examples",
        action="store_true",
        help="also run the spec pages' examples with MODULE's nn and optim (the pages of the components -k selects)",
    )
    parser.add_argument("--list", action="store_true", help="list the (component, check) pairs and exit")
    parser.add_argument("-q", "--quiet", action="store_true", help="no per-check progress lines")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        selected = list(cases(keyword=args.keyword))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not selected:
        print(f"error: {nothing_selected(args.keyword)}", file=sys.stderr)
        return 2
    out = Stdout()
    if args.list:
        for entry, check in selected:
            out.print(f"{entry.name}-{check}")
        for page in pages_of(entry for entry, _ in selected) if args.examples else []:
            out.print(f"{page} page examples")
        return CLOSED_STATUS if out.closed else 0
    try:
        impl = load_implementation(args.module, args.map_file)
    except (Exception, SystemExit) as exc:  # a package that calls sys.exit as it is imported must not end the run
        print(f"error: cannot load implementation {args.module!r}: {load_failure(exc)}", file=sys.stderr)
        return 2
    try:
        device = devices.resolve(args.device)
        if args.json_file:
            check_writable(args.json_file)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = profiles.get(args.profile)
    start = time.perf_counter()
    outcomes = []
    pages: list[ExamplesOutcome] = []
    interrupted = None
    try:
        for entry, check in selected:
            interrupted = f"{entry.name}-{check}"
            outcome = run_check(impl, entry, check, settings, device)
            outcomes.append(outcome)
            if not args.quiet:
                out.print(f"{outcome.status:<11} {entry.name}-{check}  ({outcome.seconds:.2f}s)")
            if out.closed and not args.json_file:  # nobody reads the rest; with --json, the report is the work
                return CLOSED_STATUS
        for page in pages_of(entry for entry, _ in selected) if args.examples else []:
            interrupted = f"the examples of spec/pages/{page}.md"
            page_outcome = run_examples(impl, page)
            pages.append(page_outcome)
            if not args.quiet:
                out.print(f"{page_outcome.status:<11} {page} page examples")
            if out.closed and not args.json_file:
                return CLOSED_STATUS
        interrupted = None
    except KeyboardInterrupt:  # Ctrl-C (a check that hangs, say): report what ran, then stop
        print(f"\ninterrupted during {interrupted}, after {len(outcomes)} of {len(selected)} checks", file=sys.stderr)
    elapsed = time.perf_counter() - start

    failures = [o for o in outcomes if o.status == "failed"]
    failed_pages = [p for p in pages if p.status == "failed"]
    if failures or failed_pages:
        out.print("\nFailures\n========")
        for o in failures:
            out.print(o.describe() + "\n")
        for p in failed_pages:
            out.print(f"the examples of spec/pages/{p.page}.md [{impl.name}]: FAILED\n{p.message}")
    others = [o for o in outcomes if o.status in ("unsupported", "missing")]
    missing_pages = [p for p in pages if p.status == "missing"]
    if others or missing_pages:
        out.print("\nNot checked\n===========")
        for o in others:
            out.print(f"{o.status:<11} {o.component}-{o.check}: {o.message}")
        for p in missing_pages:
            out.print(f"missing     {p.page} page examples: {p.message}")
    on = f", on {device}" if device.type != "cpu" else ""
    out.print(f"\nScorecard: {impl.name} against torch (profile {args.profile}{on}, {elapsed:.1f}s)\n")
    out.print(scorecard(outcomes))
    if pages:
        out.print(f"\nspec page examples: {summary_line(pages)}")
    ok = verdict(outcomes, args.strict) and examples_pass(pages, args.strict)
    if interrupted:
        not_run = f"{len(selected) - len(outcomes)} of {len(selected)} checks"
        if len(outcomes) == len(selected):  # stopped among the pages, every check done
            page_count = len(pages_of(entry for entry, _ in selected))
            not_run = f"{page_count - len(pages)} of {page_count} pages"
        out.print(f"\nINTERRUPTED during {interrupted}: {not_run} not run")
    else:
        if not any(o.status == "passed" for o in outcomes):
            missing = all(o.status == "missing" for o in outcomes)
            components = list(dict.fromkeys(o.component for o in outcomes)) if args.keyword else None
            why = nothing_found(args.module, components) if missing else "each check was unsupported or skipped"
            out.print(f"\nno check passed: {why}")
        out.print(
            "\nPASSED" if ok else "\nFAILED" + (" (strict: unsupported and missing count)" if args.strict else "")
        )
    if args.json_file:
        examples = pages if args.examples else None
        report = to_json(outcomes, impl.name, args.profile, args.strict, str(device), interrupted, examples)
        try:
            write_json(args.json_file, report)
        except OSError as exc:  # checked before the run, but the disk may have filled or the directory gone since
            print(f"error: the report could not be written to --json {args.json_file!r}: {exc}", file=sys.stderr)
            return 2
    if interrupted:
        return 130
    if out.closed and not args.json_file:
        return CLOSED_STATUS
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
