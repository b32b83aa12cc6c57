"""Learning from feedback: precision and recall on the later months of the seeded year, before and
after replaying feedback on the earlier months.

    .venv/bin/python bench/learning.py [--size 2000] [--seed 42] [--split 2025-07-01] [--threshold 0.5]
                                       [--profile year|reviewable]

Works in a throw-away database like bench/anomalies.py (whose seeding and labels it reuses). It
seeds the sandbox's `year` profile (a year of trade with labelled planted mistakes and hard
negatives), mirrors it and runs a full scan. Then:

(a) before: precision (flagged invoices that hold a planted mistake / flagged invoices) and recall
    (planted mistakes found by an open finding of the right kind on the right line) over the
    invoices dated on or after --split;
(b) replays feedback on the earlier months as an accountant would, through the same services as
    the screens: every open finding of an earlier invoice that matches a planted mistake is
    confirmed, every other one dismissed with a reason (teaching its learned exception);
(c) rescans everything, and measures the later months again: with the learned exceptions, and
    with the calibrated confidence's threshold (--threshold) hiding what learned precision says
    is unlikely. It prints the share of later findings silenced and the planted mistakes of the
    later months that learning silenced or hid (the target is none).

On the `year` profile the detectors already read every habit of the seed from history, so there is
little for learning to lift. `--profile reviewable` adds arrangements too sparse for history to
explain (bench/reviewable.py: special prices and taxes agreed for one client and item, stock-up
orders, promotional discounts), correct and flagged at first: what an accountant dismisses with a
reason, and what the dismissals of the earlier months should keep quiet in the later ones. For
each of those kinds it prints the later invoices that hold one (and no planted mistake) flagged
before and after.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import anomalies  # noqa: E402


def _score(findings, planted, later: set[int]) -> dict:
    """Precision and recall over the later invoices (definitions of bench/anomalies.py)."""
    by_invoice = defaultdict(list)
    for finding in findings:
        if finding.invoice_id in later:
            by_invoice[finding.invoice_id].append(finding)
    mine = [(pk, kind, detail) for pk, kind, detail in planted if pk in later]
    planted_invoices = {pk for pk, _, _ in mine}
    flagged = set(by_invoice)
    found, missed = 0, []
    for pk, kind, detail in mine:
        line = detail.get("line")
        if any(f.kind == anomalies.FAMILY[kind] and (line is None or f.line is None or f.line == line)
               for f in by_invoice[pk]):
            found += 1
        else:
            missed.append((pk, kind, line))
    return {"flagged": len(flagged), "true": len(flagged & planted_invoices), "planted": len(mine), "found": found,
            "precision": len(flagged & planted_invoices) / len(flagged) if flagged else 1.0,
            "recall": found / len(mine) if mine else 1.0, "missed": missed,
            "findings": sum(len(v) for v in by_invoice.values())}


def _matches(finding, planted_by_invoice) -> bool:
    for kind, line in planted_by_invoice.get(finding.invoice_id, ()):
        if finding.kind == anomalies.FAMILY[kind] and (line is None or finding.line is None or finding.line == line):
            return True
    return False


def replay(company, planted, earlier: set[int]) -> Counter:
    """Feedback on the earlier months' open findings, oldest first, through the screens' services."""
    from findings import services
    from findings.models import Finding
    from tests.factories import make_user

    accountant = make_user("bench-accountant", company, "accountant")
    planted_by_invoice = defaultdict(list)
    for pk, kind, detail in planted:
        planted_by_invoice[pk].append((kind, detail.get("line")))
    done = Counter()
    ids = list(Finding.objects.filter(company=company, invoice_id__in=earlier, state="open")
               .order_by("invoice_date", "id").values_list("id", flat=True))
    for pk in ids:
        finding = Finding.objects.get(pk=pk)
        if finding.state != "open":  # silenced meanwhile by an exception an earlier dismissal taught
            done["silenced meanwhile"] += 1
            continue
        if _matches(finding, planted_by_invoice):
            services.finding_confirm(finding=finding, user=accountant)
            done["confirmed"] += 1
        else:
            services.finding_dismiss(finding=finding, user=accountant,
                                     reason="Not a mistake: agreed with the client")
            done["dismissed"] += 1
    return done


def _arrangements(negatives, planted_invoices: set[int], later: set[int], before_flagged: set[int], shown,
                  kept) -> None:
    """For each reviewable kind: its later invoices (without a planted mistake) flagged before
    feedback, after the learned exceptions, and after the threshold too."""
    from bench import reviewable

    after_flagged = {f.invoice_id for f in shown}
    kept_flagged = {f.invoice_id for f in kept}
    print("\n  reviewable arrangements in the later months: invoices flagged before → after exceptions → "
          "after threshold")
    for kind in reviewable.KINDS:
        mine = (negatives.get(kind, set()) & later) - planted_invoices
        print(f"  {kind:26} ({len(mine):>3})  {len(mine & before_flagged):>3} → {len(mine & after_flagged):>3} → "
              f"{len(mine & kept_flagged):>3}")


def _line(label: str, score: dict) -> str:
    return (f"  {label:44} precision {score['precision']:.3f} ({score['true']}/{score['flagged']} invoices)  "
            f"recall {score['recall']:.3f} ({score['found']}/{score['planted']})  findings {score['findings']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--split", default="2025-07-01", help="first day of the later months")
    parser.add_argument("--threshold", type=float, default=0.5, help="hide findings below this learned confidence")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--profile", choices=("year", "reviewable"), default="year",
                        help="reviewable: add standing arrangements the detectors flag at first")
    args = parser.parse_args()
    # The bench runs with DEBUG off (no query log measured): the settings production requires.
    for name, value in (("AUDIT_HMAC_KEY", "bench-only-audit-key-not-for-production-0123456789"),
                        ("ALLOWED_HOSTS", "localhost"), ("CSRF_TRUSTED_ORIGINS", "http://localhost")):
        os.environ.setdefault(name, value)
    where = anomalies._setup()
    print(f"learning bench in {where}")
    try:
        from findings import scan
        from findings.learning import calibration
        from findings.models import Finding, LearnedException
        from invoices.models import Invoice

        shape, shaped = None, {}
        if args.profile == "reviewable":
            from bench import reviewable

            def shape(account):
                shaped.update(reviewable.shape(account, args.seed, args.size))

        account, company, _seeded, _mirrored = anomalies.mirror(args.size, args.seed, shape)
        if shaped:
            print("  reviewable arrangements planted (invoices): "
                  + ", ".join(f"{kind} × {n}" for kind, n in shaped.items()))
        scan.scan_full(company_id=company.pk)
        split = datetime.date.fromisoformat(args.split)
        dates = dict(Invoice.objects.filter(company=company).values_list("id", "date"))
        later = {pk for pk, day in dates.items() if day >= split}
        earlier = set(dates) - later
        planted, negatives = anomalies._labels(account, company)
        print(f"\n== {args.size:,} invoices: {len(earlier):,} before {split}, {len(later):,} from it on; "
              f"{sum(1 for p in planted if p[0] in later)} planted mistakes in the later months ==")
        before_open = list(Finding.objects.filter(company=company, state="open"))
        before = _score(before_open, planted, later)
        before_flagged = {f.invoice_id for f in before_open}
        print(_line("before feedback", before))

        started = time.perf_counter()
        done = replay(company, planted, earlier)
        replayed = time.perf_counter() - started
        learned = LearnedException.objects.filter(company=company).count()
        print(f"  feedback replayed on the earlier months in {replayed:.1f} s: {done['confirmed']} confirmed, "
              f"{done['dismissed']} dismissed ({learned} exceptions learned), {done['silenced meanwhile']} "
              f"silenced by an exception before their turn")

        scan.scan_full(company_id=company.pk)
        later_findings = list(Finding.objects.filter(company=company, invoice_id__in=later,
                                                     state__in=("open", "confirmed", "silenced")))
        shown = [f for f in later_findings if f.state != "silenced"]
        after = _score(shown, planted, later)
        print(_line("after, learned exceptions", after))
        known = calibration.detectors(company.pk)
        kept = []
        for finding in shown:
            d = known.get((finding.kind, finding.cause))
            value = calibration.calibrated(finding.confidence, d.confirmed, d.dismissed) if d else finding.confidence
            if float(value) >= args.threshold:
                kept.append(finding)
        thresholded = _score(kept, planted, later)
        print(_line(f"after, exceptions + threshold {args.threshold:.2f}", thresholded))

        silenced = [f for f in later_findings if f.state == "silenced"]
        planted_later = defaultdict(list)
        for pk, kind, detail in planted:
            if pk in later:
                planted_later[pk].append((kind, detail.get("line")))
        wrongly_silenced = [f for f in silenced if _matches(f, planted_later)]
        newly_missed = set(after["missed"]) - set(before["missed"])
        hidden_missed = set(thresholded["missed"]) - set(before["missed"])
        print(f"\n  later findings silenced by learning: {len(silenced)} of {len(later_findings)} "
              f"({len(silenced) / max(1, len(later_findings)):.1%}); hidden by the threshold besides: "
              f"{len(shown) - len(kept)}")
        print(f"  planted mistakes of the later months silenced: {len(wrongly_silenced)}; missed after the "
              f"exceptions and not before: {len(newly_missed)}; missed after the threshold and not before: "
              f"{len(hidden_missed)}")
        planted_invoices = {pk for pk, _k, _d in planted}
        false = Counter(f"{f.kind}:{f.cause}" for f in shown if f.invoice_id not in planted_invoices)
        if false:
            print("  later findings still raised on invoices without a planted mistake: "
                  + ", ".join(f"{name} × {n}" for name, n in sorted(false.items())))
        if shaped:
            _arrangements(negatives, planted_invoices, later, before_flagged, shown, kept)
        print("\n  learned precision per detector (confirmed / dismissed on the earlier months)")
        for (kind, cause), d in sorted(known.items()):
            print(f"  {kind + ':' + cause:34} {d.confirmed:>5} / {d.dismissed:<5} precision {d.precision:.3f}")
        print(f"  (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    finally:
        if not args.keep:
            anomalies._drop_database()


if __name__ == "__main__":
    main()
