"""Each detector's confidence, learned: a Beta posterior over confirmations and dismissals.

A detector is a finding kind and the rule of it that spoke (its cause: a price slip, a price far
from the usual…). Before any feedback a finding's confidence is what its detector says of it
(`Finding.confidence`); that value is the prior mean, worth PRIOR_WEIGHT decisions. Every
confirmation and every dismissal of the detector's findings moves it:

    calibrated = (confidence × W + confirmed) / (W + confirmed + dismissed)

so a detector dismissed nine times in ten sinks on the Review page (and under the manager's
threshold), one confirmed again and again rises, and a finding's own strength still counts. The
learned precision shown per detector is the posterior mean under a uniform prior, Beta(1 + confirmed,
1 + dismissed), with its 90 % credible interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Case, Count, ExpressionWrapper, F, FloatField, Q, QuerySet, Value, When

PRIOR_WEIGHT = 8
THREE = Decimal("0.001")


@dataclass(frozen=True)
class Detector:
    kind: str
    cause: str
    confirmed: int
    dismissed: int

    @property
    def decisions(self) -> int:
        return self.confirmed + self.dismissed

    @property
    def precision(self) -> float:
        return (1 + self.confirmed) / (2 + self.decisions)

    @property
    def interval(self) -> tuple[float, float]:
        return beta_interval(1 + self.confirmed, 1 + self.dismissed)


def calibrated(confidence, confirmed: int, dismissed: int) -> Decimal:
    value = (Decimal(confidence) * PRIOR_WEIGHT + confirmed) / (PRIOR_WEIGHT + confirmed + dismissed)
    return value.quantize(THREE, rounding=ROUND_HALF_UP)


def detectors(company_id: int) -> dict[tuple[str, str], Detector]:
    """(kind, cause) → its counts of feedback (one query)."""
    from ..models import Feedback

    counts: dict[tuple[str, str], list[int]] = {}
    rows = (Feedback.objects.filter(company_id=company_id).order_by().values("kind", "cause", "verdict")
            .annotate(n=Count("id")))
    for row in rows:
        pair = counts.setdefault((row["kind"], row["cause"]), [0, 0])
        pair[0 if row["verdict"] == "confirm" else 1] += row["n"]
    return {key: Detector(key[0], key[1], c, d) for key, (c, d) in counts.items()}


def annotate(qs: QuerySet, known: dict[tuple[str, str], Detector]) -> QuerySet:
    """The queryset with `calibrated` (a float in SQL), computed from the detectors' counts."""
    confidence = ExpressionWrapper(F("confidence") * Value(1.0), output_field=FloatField())
    whens = [When(Q(kind=d.kind, cause=d.cause),
                  then=ExpressionWrapper((F("confidence") * Value(float(PRIOR_WEIGHT)) + Value(float(d.confirmed)))
                                         / Value(float(PRIOR_WEIGHT + d.decisions)), output_field=FloatField()))
             for d in known.values() if d.decisions]
    return qs.annotate(calibrated=Case(*whens, default=confidence, output_field=FloatField()) if whens
                       else confidence)


# --- the credible interval (no scientific library needed for one small integral) --------------


def _continued_fraction(a: float, b: float, x: float) -> float:
    """Lentz's method for the incomplete beta function's continued fraction."""
    tiny, qab, qap, qam = 1e-300, a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        for numerator in (m * (b - m) * x / ((qam + m2) * (a + m2)),
                          -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-12:
            break
    return h


def beta_cdf(x: float, a: float, b: float) -> float:
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return front * _continued_fraction(a, b, x) / a
    return 1.0 - front * _continued_fraction(b, a, 1.0 - x) / b


def beta_quantile(p: float, a: float, b: float) -> float:
    low, high = 0.0, 1.0
    for _ in range(60):
        middle = (low + high) / 2
        if beta_cdf(middle, a, b) < p:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def beta_interval(a: float, b: float, mass: float = 0.9) -> tuple[float, float]:
    tail = (1 - mass) / 2
    return beta_quantile(tail, a, b), beta_quantile(1 - tail, a, b)
