from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from ml.segmentation import SegmentationResult, _name_segments, segment_customers

COLUMNS = [
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "tenure_days",
    "avg_review",
    "late_share",
    "avg_installments",
]

# recency, (freq low, freq high), monetary centre, tenure, review, late share, installments
GROUPS = {
    "high": (30.0, (3, 7), 600.0, 500.0, 4.7, 0.03, 6.0),
    "mid": (200.0, (1, 3), 150.0, 250.0, 4.0, 0.15, 3.0),
    "low": (450.0, (1, 2), 35.0, 60.0, 2.5, 0.45, 1.0),
}


@pytest.fixture(scope="module", autouse=True)
def single_thread() -> Iterator[None]:
    """OpenMP start-up dwarfs KMeans on a few hundred rows, worst on a busy shared box."""
    with threadpool_limits(limits=1):
        yield


def planted(per_group: int, seed: int = 0) -> pd.DataFrame:
    """Three customer groups far apart on every feature, tagged with the group they came from."""
    rng = np.random.default_rng(seed)
    frames = []
    for group, (recency, freq, spend, tenure, review, late, inst) in GROUPS.items():
        frequency = rng.integers(*freq, size=per_group).astype(float)
        monetary = spend * np.exp(rng.normal(0, 0.15, per_group))
        frames.append(
            pd.DataFrame(
                {
                    "planted": group,
                    "recency_days": rng.normal(recency, recency * 0.1, per_group),
                    "frequency": frequency,
                    "monetary": monetary,
                    "avg_order_value": monetary / frequency,
                    "tenure_days": rng.normal(tenure, tenure * 0.1, per_group),
                    "avg_review": np.clip(rng.normal(review, 0.15, per_group), 1, 5),
                    "late_share": np.clip(rng.normal(late, 0.02, per_group), 0, 1),
                    "avg_installments": rng.normal(inst, 0.3, per_group),
                }
            )
        )
    frame = pd.concat(frames, ignore_index=True)
    frame.insert(0, "customer_unique_id", [f"c{i:05d}" for i in range(len(frame))])
    return frame


def blob(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(n, len(COLUMNS))), columns=COLUMNS)
    frame["frequency"] = rng.integers(1, 4, size=n)
    frame["monetary"] = np.exp(rng.normal(5, 1, n))
    frame["avg_order_value"] = frame["monetary"] / frame["frequency"]
    frame.insert(0, "customer_unique_id", [f"c{i:05d}" for i in range(n)])
    return frame


def segment_of_planted(frame: pd.DataFrame, assignments: pd.DataFrame) -> pd.Series:
    merged = frame[["customer_unique_id", "planted"]].merge(assignments, on="customer_unique_id")
    return merged.groupby("planted")["segment_id"].agg(lambda s: s.nunique() == 1 and s.iloc[0])


@pytest.fixture(scope="module")
def three_groups() -> pd.DataFrame:
    return planted(per_group=150)


@pytest.fixture(scope="module")
def result(three_groups: pd.DataFrame) -> SegmentationResult:
    return segment_customers(three_groups, COLUMNS)


def test_planted_groups_give_three_publishable_segments(result: SegmentationResult) -> None:
    assert result.k == 3
    assert result.silhouette == max(result.silhouette_by_k.values())
    assert result.silhouette > 0.5
    assert set(result.silhouette_by_k) == set(range(3, 9))
    assert result.publishable, result.reason
    assert "k=3" in result.reason
    assert result.segments["customers"].tolist() == [150, 150, 150]
    assert result.segments["share"].sum() == pytest.approx(1.0)


def test_each_planted_group_maps_to_one_segment_ordered_by_value(
    three_groups: pd.DataFrame, result: SegmentationResult
) -> None:
    segment = segment_of_planted(three_groups, result.assignments)
    assert segment.to_dict() == {"high": 0, "mid": 1, "low": 2}


def test_names_come_from_the_data(result: SegmentationResult) -> None:
    names = result.segments.set_index("segment_id")["segment_name"]

    assert names.is_unique
    assert names[0] == "recent repeat high-value"
    assert names[2] == "lapsed one-time low-value"
    assert "high-value" not in names[1] and "low-value" not in names[1]
    assert result.assignments.groupby("segment_id")["segment_name"].nunique().eq(1).all()


def test_segment_table_reports_means_in_original_units(
    three_groups: pd.DataFrame, result: SegmentationResult
) -> None:
    top = result.segments.iloc[0]
    high = three_groups[three_groups["planted"] == "high"]

    assert list(result.segments.columns[:5]) == [
        "segment_id",
        "segment_name",
        "description",
        "customers",
        "share",
    ]
    assert top["monetary"] == pytest.approx(high["monetary"].mean())
    assert top["recency_days"] == pytest.approx(high["recency_days"].mean())
    assert top["description"].startswith("150 customers; recency ")
    assert f"R$ {high['monetary'].mean():,.0f} spent" in top["description"]


def test_same_seed_gives_identical_assignments() -> None:
    noisy = blob(300)
    first = segment_customers(noisy, COLUMNS, seed=11, k_values=range(3, 6))
    second = segment_customers(noisy, COLUMNS, seed=11, k_values=range(3, 6))

    pd.testing.assert_frame_equal(first.assignments, second.assignments)
    assert first.silhouette_by_k == second.silhouette_by_k


def test_single_blob_is_not_publishable() -> None:
    result = segment_customers(blob(600), COLUMNS)

    assert not result.publishable
    assert result.silhouette < 0.20
    assert "silhouette" in result.reason
    assert f"{result.silhouette:.3f}" in result.reason
    assert len(result.assignments) == 600
    assert result.segments["customers"].sum() == 600


def test_too_few_customers_is_not_publishable() -> None:
    small = planted(per_group=10)

    result = segment_customers(small, COLUMNS)

    assert not result.publishable
    assert "30 customers" in result.reason
    assert "50" in result.reason
    assert len(result.assignments) == 30


def test_tiny_segment_blocks_publication() -> None:
    frame = planted(per_group=300)
    outliers = planted(per_group=2, seed=1).query("planted == 'high'").copy()
    outliers[["monetary", "recency_days", "tenure_days"]] *= [40.0, 30.0, 8.0]
    outliers["customer_unique_id"] = ["x0", "x1"]
    frame = pd.concat([frame, outliers], ignore_index=True)

    result = segment_customers(frame, COLUMNS, k_values=range(4, 5))

    assert result.k == 4
    assert result.segments["customers"].min() == 2
    assert not result.publishable
    assert "smallest" in result.reason and "1%" in result.reason


def test_nan_features_are_imputed(three_groups: pd.DataFrame) -> None:
    frame = three_groups.copy()
    frame.loc[frame.index % 5 == 0, "avg_review"] = np.nan

    result = segment_customers(frame, COLUMNS)

    assert result.k == 3
    assert result.publishable, result.reason
    assert result.assignments["segment_id"].notna().all()
    assert result.segments["avg_review"].notna().all()
    high = frame[frame["planted"] == "high"]
    assert result.segments.loc[0, "avg_review"] == pytest.approx(high["avg_review"].mean())


def test_colliding_names_are_told_apart_by_a_worse_feature() -> None:
    population = pd.DataFrame(
        {
            "recency_days": [10.0, 20.0, 300.0, 400.0],
            "frequency": [1.0, 1.0, 1.0, 1.0],
            "monetary": [100.0, 100.0, 100.0, 100.0],
            "late_share": [0.0, 0.6, 0.1, 0.1],
            "avg_review": [5.0, 4.0, 5.0, 5.0],
        }
    )
    centroids = pd.DataFrame(
        {
            "recency_days": [10.0, 20.0, 300.0, 400.0],
            "frequency": [1.0, 1.0, 1.0, 1.0],
            "monetary": [100.0, 100.0, 100.0, 100.0],
            "late_share": [0.0, 0.6, 0.1, 0.1],
            "avg_review": [5.0, 4.0, 5.0, 5.0],
        }
    )

    names = _name_segments(centroids, population, log_columns=())

    assert names == {
        0: "recent one-time mid-value",
        1: "recent one-time mid-value (late deliveries)",
        2: "lapsed one-time mid-value (1)",
        3: "lapsed one-time mid-value (2)",
    }
