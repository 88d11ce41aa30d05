"""Customer segmentation: KMeans on RFM and behaviour features, named from the data.

Segments are only worth publishing when the clusters are real, so every result carries a
quality verdict (silhouette, smallest segment share, population size) next to the labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

ID = "customer_unique_id"
# Full-batch KMeans with n_init=10 gets slow past this size; mini-batch is close enough there.
MINIBATCH_ABOVE = 200_000
MIN_SEGMENT_SHARE = 0.01
# A segment buys "repeat" only if its typical customer orders noticeably more than once.
REPEAT_FACTOR = 1.2
_RESERVED = {"segment_id", "segment_name", "description", "customers", "share"}
# (feature, direction, tag): used in order to tell apart segments whose base names collide.
_TAGS: tuple[tuple[str, str, str], ...] = (
    ("late_share", "max", "late deliveries"),
    ("avg_review", "min", "unhappy"),
    ("avg_installments", "max", "installment buyers"),
    ("tenure_days", "max", "long-tenure"),
    ("avg_order_value", "max", "big baskets"),
)


@dataclass
class SegmentationResult:
    assignments: pd.DataFrame
    segments: pd.DataFrame
    k: int
    silhouette: float
    silhouette_by_k: dict[int, float]
    davies_bouldin: float
    calinski_harabasz: float
    publishable: bool
    reason: str


def segment_customers(
    features: pd.DataFrame,
    columns: list[str],
    seed: int = 7,
    k_values: range = range(3, 9),
    min_silhouette: float = 0.20,
    min_customers: int = 50,
    sample_size: int = 5_000,  # silhouette is quadratic in it: 20k rows cost 4 s per k
    log_columns: tuple[str, ...] = ("frequency", "monetary", "avg_order_value"),
) -> SegmentationResult:
    """Cluster customers, pick k by silhouette, and say whether the segments can be published.

    Assignments are returned even when the verdict is negative so the caller can log them.
    """
    _check_input(features, columns)
    raw = features[columns].astype(float).replace([np.inf, -np.inf], np.nan)
    transformed = _impute_and_log(raw, log_columns)
    scaled = _standardise(transformed)
    n = len(features)

    n_distinct = int((~pd.DataFrame(scaled).duplicated()).sum()) if n else 0
    # k is chosen on a seeded sample (fit and silhouette there), so trying six values of k
    # stays cheap at a million customers; the chosen k is then fitted on everybody
    rng = np.random.default_rng(seed)
    sample = scaled[rng.choice(n, size=sample_size, replace=False)] if n > sample_size else scaled
    silhouette_by_k: dict[int, float] = {}
    for k in k_values:
        if 2 <= k < n_distinct:
            sample_labels = _fit_labels(sample, k, seed)
            silhouette_by_k[k] = _silhouette(sample, sample_labels, sample_size, seed)
    labels_by_k: dict[int, np.ndarray] = {}
    if silhouette_by_k:
        best = max(silhouette_by_k, key=lambda c: (silhouette_by_k[c], -c))
        labels_by_k[best] = _fit_labels(scaled, best, seed)

    if silhouette_by_k:
        k = max(silhouette_by_k, key=lambda c: (silhouette_by_k[c], -c))
        labels = labels_by_k[k]
        silhouette = silhouette_by_k[k]
        davies_bouldin = float(davies_bouldin_score(scaled, labels))
        calinski_harabasz = float(calinski_harabasz_score(scaled, labels))
    else:
        # Too few distinct customers to cluster at any requested k: one segment, no scores.
        k, labels = 1, np.zeros(n, dtype=int)
        silhouette = davies_bouldin = calinski_harabasz = float("nan")

    segment_ids = _order_segments(labels, transformed)
    centroids = _centroids(transformed, segment_ids, log_columns)
    names = _name_segments(centroids, transformed, log_columns)
    segments = _segment_table(raw, segment_ids, names)
    assignments = pd.DataFrame(
        {
            ID: features[ID].astype(str).to_numpy(),
            "segment_id": segment_ids,
            "segment_name": [names[s] for s in segment_ids],
        }
    )
    publishable, reason = _verdict(
        n, k, silhouette, segments, min_customers, min_silhouette, len(k_values) > 0
    )
    return SegmentationResult(
        assignments=assignments,
        segments=segments,
        k=k,
        silhouette=silhouette,
        silhouette_by_k=silhouette_by_k,
        davies_bouldin=davies_bouldin,
        calinski_harabasz=calinski_harabasz,
        publishable=publishable,
        reason=reason,
    )


def _check_input(features: pd.DataFrame, columns: list[str]) -> None:
    if not columns:
        raise ValueError("segmentation needs at least one feature column")
    missing = [c for c in [ID, *columns] if c not in features.columns]
    if missing:
        raise ValueError(f"missing columns: {missing}")
    clashes = _RESERVED.intersection(columns)
    if clashes:
        raise ValueError(f"feature names clash with segment table columns: {sorted(clashes)}")


def _impute_and_log(raw: pd.DataFrame, log_columns: tuple[str, ...]) -> pd.DataFrame:
    """Median imputation keeps skewed columns honest; log1p tames spend and order tails."""
    medians = raw.median().fillna(0.0)
    out = raw.fillna(medians)
    for column in out.columns.intersection(list(log_columns)):
        out[column] = np.log1p(out[column].clip(lower=0.0))
    return out


def _standardise(frame: pd.DataFrame) -> np.ndarray:
    values = frame.to_numpy(dtype=float)
    if len(values) == 0:
        return values
    std = values.std(axis=0)
    return (values - values.mean(axis=0)) / np.where(std > 0, std, 1.0)


def _fit_labels(scaled: np.ndarray, k: int, seed: int) -> np.ndarray:
    if len(scaled) > MINIBATCH_ABOVE:
        model: KMeans | MiniBatchKMeans = MiniBatchKMeans(
            n_clusters=k, random_state=seed, n_init=3, batch_size=8192
        )
    else:
        model = KMeans(n_clusters=k, random_state=seed, n_init=10)
    return model.fit_predict(scaled)


def _silhouette(scaled: np.ndarray, labels: np.ndarray, sample_size: int, seed: int) -> float:
    """Sampled so choosing k stays cheap at a million customers."""
    sample = sample_size if sample_size < len(scaled) else None
    try:
        return float(silhouette_score(scaled, labels, sample_size=sample, random_state=seed))
    except ValueError:
        # The sample caught a single cluster: no evidence of structure at this k.
        return float("nan")


def _order_segments(labels: np.ndarray, transformed: pd.DataFrame) -> np.ndarray:
    """Renumber clusters so 0 is the most valuable: spend, then frequency, then recency."""
    frame = transformed.assign(_label=labels)
    grouped = frame.groupby("_label")
    keys = pd.DataFrame({"size": grouped.size()})
    for column, sign in (("monetary", -1.0), ("frequency", -1.0), ("recency_days", 1.0)):
        if column in transformed.columns:
            keys[column] = sign * grouped[column].mean()
    keys["size"] = -keys["size"]
    sort_by = [c for c in ("monetary", "frequency", "recency_days") if c in keys] + ["size"]
    order = keys.sort_values(sort_by, kind="stable").index.to_list()
    mapping = {label: rank for rank, label in enumerate(order)}
    return np.array([mapping[label] for label in labels], dtype=int)


def _back(frame: pd.DataFrame, log_columns: tuple[str, ...]) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns.intersection(list(log_columns)):
        out[column] = np.expm1(out[column])
    return out


def _centroids(
    transformed: pd.DataFrame, segment_ids: np.ndarray, log_columns: tuple[str, ...]
) -> pd.DataFrame:
    """Centroids in the clustering space, back in original units (geometric-style for logs)."""
    means = transformed.groupby(segment_ids).mean().sort_index()
    return _back(means, log_columns)


def _name_segments(
    centroids: pd.DataFrame, transformed: pd.DataFrame, log_columns: tuple[str, ...]
) -> dict[int, str]:
    population = _back(transformed, log_columns)
    base = {int(s): _base_name(row, population) for s, row in centroids.iterrows()}
    reference = _back(transformed.mean().to_frame().T, log_columns).iloc[0]
    names = dict(base)
    for name in sorted(set(base.values())):
        group = [s for s in sorted(base) if base[s] == name]
        for column, direction, tag in _TAGS:
            if len(group) < 2 or column not in centroids.columns:
                continue
            values = centroids.loc[group, column]
            extreme = values.max() if direction == "max" else values.min()
            holders = values.index[values == extreme].to_list()
            worse = (
                extreme > reference[column] if direction == "max" else extreme < reference[column]
            )
            if len(holders) == 1 and worse:
                names[holders[0]] = f"{name} ({tag})"
                group.remove(holders[0])
        if len(group) > 1:
            for i, s in enumerate(group, start=1):
                names[s] = f"{name} ({i})"
    return names


def _base_name(centroid: pd.Series, population: pd.DataFrame) -> str:
    words: list[str] = []
    if "recency_days" in centroid.index:
        recent = centroid["recency_days"] <= population["recency_days"].median()
        words.append("recent" if recent else "lapsed")
    if "frequency" in centroid.index:
        threshold = REPEAT_FACTOR * max(1.0, float(population["frequency"].median()))
        if centroid["frequency"] > threshold:
            words.append("repeat")
        else:
            words.append("one-time" if centroid["frequency"] <= REPEAT_FACTOR else "occasional")
    if "monetary" in centroid.index:
        low, high = population["monetary"].quantile([1 / 3, 2 / 3])
        value = centroid["monetary"]
        words.append("high-value" if value > high else "low-value" if value < low else "mid-value")
    return " ".join(words) if words else "customers"


def _describe(row: pd.Series) -> str:
    formats = (
        ("recency_days", "recency {:.0f} d"),
        ("frequency", "{:.1f} orders"),
        ("monetary", "R$ {:,.0f} spent"),
        ("avg_review", "review {:.1f}"),
        ("late_share", "{:.0%} late"),
    )
    parts = [fmt.format(row[c]) for c, fmt in formats if c in row.index and pd.notna(row[c])]
    head = f"{int(row['customers']):,} customers"
    return f"{head}; {', '.join(parts)}" if parts else head


def _segment_table(
    raw: pd.DataFrame, segment_ids: np.ndarray, names: dict[int, str]
) -> pd.DataFrame:
    """Means of the raw values (NaN skipped) so the table reads in the units people know."""
    grouped = raw.groupby(segment_ids)
    table = grouped.mean().sort_index()
    table.insert(0, "share", grouped.size().sort_index() / len(raw))
    table.insert(0, "customers", grouped.size().sort_index().astype(int))
    table.insert(0, "segment_name", [names[int(s)] for s in table.index])
    table.insert(0, "segment_id", table.index.astype(int))
    table.insert(2, "description", [_describe(row) for _, row in table.iterrows()])
    return table.reset_index(drop=True)


def _verdict(
    n: int,
    k: int,
    silhouette: float,
    segments: pd.DataFrame,
    min_customers: int,
    min_silhouette: float,
    any_k: bool,
) -> tuple[bool, str]:
    smallest = float(segments["share"].min()) if len(segments) else 0.0
    if n < min_customers:
        return False, f"only {n} customers, below the minimum of {min_customers}."
    if np.isnan(silhouette):
        why = "no k to try" if not any_k else "too few distinct customers for any k tried"
        return False, f"silhouette undefined ({why}) across {n} customers."
    if silhouette < min_silhouette:
        return False, (
            f"best silhouette {silhouette:.3f} at k={k} is below the bar of {min_silhouette:.2f}; "
            "the clusters are not well separated."
        )
    if smallest < MIN_SEGMENT_SHARE:
        return False, (
            f"smallest of {k} segments holds {smallest:.2%} of {n} customers, "
            f"below {MIN_SEGMENT_SHARE:.0%}."
        )
    return True, (
        f"k={k} with silhouette {silhouette:.3f} (bar {min_silhouette:.2f}) over {n} customers; "
        f"smallest segment holds {smallest:.1%}."
    )
