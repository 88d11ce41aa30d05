"""Synthetic Olist marketplace: the 9 Kaggle CSVs, referentially consistent, seeded.

Customers are simulated one purchase "generation" at a time: every customer makes a first
order; after each order the chance of coming back depends on latent traits (loyalty, spend
level, purchase rate, preferred category and payment) *and* on what the customer just
experienced (late delivery, review score, boleto payment). The latent traits are written to
``_synthetic/customer_latent.csv`` beside the CSVs so ML benchmarks can score models
against the truth. Work is chunked by customers, so memory stays bounded at any scale.
"""

from __future__ import annotations

import csv
import json
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from synthetic import vocab

GENERATOR_VERSION = "1"
LATENT_DIR = "_synthetic"
LATENT_FILE = "customer_latent.csv"
MANIFEST_FILE = "manifest.json"
DAY = 86_400
HOUR = 3_600

_EPOCH = np.datetime64("1970-01-01T00:00:00", "s")
HISTORY_END_S = int((np.datetime64(vocab.HISTORY_END, "s") - _EPOCH).astype(np.int64))

# Base log-odds of coming back after an order; tuned so that the full-scale run gives
# ~1.035 orders per customer (99,441 orders / 96,096 customers) after right-censoring.
RETURN_INTERCEPT = -3.85

Progress = Callable[[str], None]


@dataclass
class GenerationSummary:
    out_dir: Path
    scale: float
    seed: int
    rows: dict[str, int] = field(default_factory=dict)
    customers: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "generator_version": GENERATOR_VERSION,
            "scale": self.scale,
            "seed": self.seed,
            "rows": self.rows,
            "unique_customers": self.customers,
        }


# --------------------------------------------------------------------------- helpers


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _hex_ids(rng: np.random.Generator, n: int) -> list[str]:
    raw = rng.bytes(16 * n)
    return [raw[i : i + 16].hex() for i in range(0, 16 * n, 16)]


def _weights(values: list[float] | np.ndarray) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    return arr / arr.sum()


def _fmt_ts(seconds: np.ndarray, present: np.ndarray | None = None) -> list[str]:
    """Format epoch seconds as ``YYYY-MM-DD HH:MM:SS``; missing values become ''."""
    text = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    text = np.char.replace(text, "T", " ")
    out = text.tolist()
    if present is not None:
        for i in np.flatnonzero(~present):
            out[i] = ""
    return out


def _fmt_money(values: np.ndarray) -> list[str]:
    return [str(v) for v in np.round(values, 2).tolist()]


def _at_least(rate: float, n: int, floor: int = 1) -> int:
    """Quirk counts: proportional to volume but never absent, so small scales show them."""
    return min(n, max(floor, int(round(rate * n))))


def _pick(
    rng: np.random.Generator, n: int, k: int, eligible: np.ndarray | None = None
) -> np.ndarray:
    pool = np.arange(n) if eligible is None else np.flatnonzero(eligible)
    if len(pool) == 0 or k <= 0:
        return np.array([], dtype=int)
    return rng.choice(pool, size=min(k, len(pool)), replace=False)


# --------------------------------------------------------------------------- reference


@dataclass
class Zips:
    prefix: np.ndarray  # int
    state: np.ndarray  # str
    city: np.ndarray  # str (accented)
    lat: np.ndarray
    lng: np.ndarray
    weight: np.ndarray
    by_state: dict[str, np.ndarray]


def _state_towns(rng: np.random.Generator, state: str, n_towns: int) -> list[str]:
    towns = set()
    while len(towns) < n_towns:
        name = (
            f"{rng.choice(vocab.TOWN_HEADS)} {rng.choice(vocab.TOWN_BODIES)}"
            f"{rng.choice(vocab.TOWN_TAILS)}"
        )
        towns.add(name)
    return sorted(towns)


def build_zips(rng: np.random.Generator, scale: float) -> Zips:
    n_zips = int(round(vocab.FULL_COUNTS["zip_prefixes"] * min(scale, 1.0) ** 0.7))
    if scale > 1:
        n_zips = int(round(vocab.FULL_COUNTS["zip_prefixes"] * scale**0.15))
    n_zips = max(n_zips, 600)
    share = _weights([v**0.7 for v in vocab.CUSTOMER_STATES.values()])
    per_state = np.maximum(3, np.round(share * n_zips).astype(int))
    prefixes, states, cities, lats, lngs, weights = [], [], [], [], [], []
    for (state, count), k in zip(vocab.CUSTOMER_STATES.items(), per_state, strict=True):
        del count
        space = np.concatenate([np.arange(lo, hi + 1) for lo, hi in vocab.STATE_ZIP_RANGES[state]])
        k = min(int(k), len(space))
        chosen = np.sort(rng.choice(space, size=k, replace=False))
        real = vocab.STATE_CITIES[state]
        towns = _state_towns(rng, state, 10 + int(k / 12))
        pool = real + towns
        # the capital and big cities hold most zip prefixes
        city_w = _weights([6.0 / (i + 1) for i in range(len(real))] + [0.15] * len(towns))
        city_idx = rng.choice(len(pool), size=k, p=city_w)
        clat, clng, _ = vocab.STATE_GEO[state]
        centre_lat = clat + rng.normal(0, 1.2, len(pool))
        centre_lng = clng + rng.normal(0, 1.2, len(pool))
        prefixes.append(chosen)
        states.append(np.full(k, state))
        cities.append(np.array(pool, dtype=object)[city_idx])
        lats.append(centre_lat[city_idx] + rng.normal(0, 0.05, k))
        lngs.append(centre_lng[city_idx] + rng.normal(0, 0.05, k))
        weights.append(rng.lognormal(0, 1.0, k) * city_w[city_idx] * len(pool))
    zips = Zips(
        prefix=np.concatenate(prefixes),
        state=np.concatenate(states),
        city=np.concatenate(cities),
        lat=np.concatenate(lats),
        lng=np.concatenate(lngs),
        weight=np.concatenate(weights),
        by_state={},
    )
    for state in vocab.CUSTOMER_STATES:
        zips.by_state[state] = np.flatnonzero(zips.state == state)
    return zips


def _zip_for_states(rng: np.random.Generator, zips: Zips, states: np.ndarray) -> np.ndarray:
    out = np.empty(len(states), dtype=int)
    for state in np.unique(states):
        mask = states == state
        idx = zips.by_state[state]
        out[mask] = rng.choice(idx, size=int(mask.sum()), p=_weights(zips.weight[idx]))
    return out


def _customer_city(
    rng: np.random.Generator, accented: np.ndarray, variant_rate: float
) -> list[str]:
    """Customer/seller files use unaccented lower case, with rare free-text variants."""
    out = [strip_accents(c) for c in accented.tolist()]
    for i in np.flatnonzero(rng.random(len(out)) < variant_rate):
        city = out[i]
        out[i] = [city.replace(" ", ""), city + " ", city.title(), accented[i]][i % 4]
    return out


@dataclass
class Catalog:
    seller_ids: list[str]
    seller_zip: np.ndarray
    seller_city: list[str]
    seller_weight: np.ndarray
    product_ids: list[str]
    product_cat: np.ndarray  # index into category names, -1 = no category
    product_seller: np.ndarray
    product_price: np.ndarray
    product_weight_g: np.ndarray
    product_popularity: np.ndarray
    category_names: list[str]
    products_by_cat: dict[int, np.ndarray]


def build_catalog(
    rng: np.random.Generator, zips: Zips, scale: float
) -> tuple[Catalog, dict[str, list]]:
    n_sellers = max(30, int(round(vocab.FULL_COUNTS["sellers"] * scale)))
    n_products = max(200, int(round(vocab.FULL_COUNTS["products"] * scale)))

    seller_states = rng.choice(
        list(vocab.SELLER_STATES), size=n_sellers, p=_weights(list(vocab.SELLER_STATES.values()))
    )
    seller_zip = _zip_for_states(rng, zips, seller_states)
    seller_city = _customer_city(rng, zips.city[seller_zip], variant_rate=0.01)
    seller_weight = rng.pareto(1.1, n_sellers) + 0.05
    seller_ids = _hex_ids(rng, n_sellers)

    names = [c[0] for c in vocab.CATEGORIES] + [c[0] for c in vocab.UNTRANSLATED_CATEGORIES]
    cat_w = _weights(
        [c[2] for c in vocab.CATEGORIES] + [c[1] for c in vocab.UNTRANSLATED_CATEGORIES]
    )
    product_cat = rng.choice(len(names), size=n_products, p=cat_w)
    n_uncat = _at_least(610 / 32_951, n_products, floor=2)
    uncat = _pick(rng, n_products, n_uncat)
    product_cat[uncat] = -1
    # the two untranslated categories must exist whatever the scale
    for j, _ in enumerate(vocab.UNTRANSLATED_CATEGORIES):
        if not np.any(product_cat == len(vocab.CATEGORIES) + j):
            product_cat[_pick(rng, n_products, 1, product_cat >= 0)] = len(vocab.CATEGORIES) + j

    product_seller = rng.choice(n_sellers, size=n_products, p=_weights(seller_weight))
    cat_price = np.exp(rng.normal(4.35, 0.55, len(names)))  # median item price per category
    base_price = np.where(product_cat >= 0, cat_price[product_cat], 80.0)
    product_price = np.round(np.maximum(0.85, base_price * rng.lognormal(0, 0.75, n_products)), 2)
    weight_g = np.round(np.clip(rng.lognormal(6.7, 1.2, n_products), 0, 40_425)).astype(int)
    popularity = rng.lognormal(0, 1.4, n_products)
    product_ids = _hex_ids(rng, n_products)

    length = np.clip(rng.lognormal(3.2, 0.5, n_products), 7, 105).astype(int)
    height = np.clip(rng.lognormal(2.6, 0.6, n_products), 2, 105).astype(int)
    width = np.clip(rng.lognormal(3.0, 0.4, n_products), 6, 118).astype(int)
    name_len = np.clip(rng.normal(48, 10, n_products), 5, 76).astype(int)
    desc_len = np.clip(rng.lognormal(6.4, 0.75, n_products), 4, 3992).astype(int)
    photos = np.clip(rng.geometric(0.48, n_products), 1, 20)
    no_dims = _pick(rng, n_products, _at_least(2 / 32_951, n_products))

    no_dims_set = set(no_dims.tolist())
    product_rows = []
    for i in range(n_products):
        cat = product_cat[i]
        has_cat = cat >= 0
        dims = i not in no_dims_set
        product_rows.append(
            [
                product_ids[i],
                names[cat] if has_cat else "",
                str(name_len[i]) if has_cat else "",
                str(desc_len[i]) if has_cat else "",
                str(photos[i]) if has_cat else "",
                str(weight_g[i]) if dims else "",
                str(length[i]) if dims else "",
                str(height[i]) if dims else "",
                str(width[i]) if dims else "",
            ]
        )
    seller_rows = [
        [seller_ids[i], f"{zips.prefix[seller_zip[i]]:05d}", seller_city[i], seller_states[i]]
        for i in range(n_sellers)
    ]
    products_by_cat = {c: np.flatnonzero(product_cat == c) for c in np.unique(product_cat)}
    catalog = Catalog(
        seller_ids=seller_ids,
        seller_zip=seller_zip,
        seller_city=seller_city,
        seller_weight=seller_weight,
        product_ids=product_ids,
        product_cat=product_cat,
        product_seller=product_seller,
        product_price=product_price,
        product_weight_g=weight_g,
        product_popularity=popularity,
        category_names=names,
        products_by_cat=products_by_cat,
    )
    return catalog, {"products": product_rows, "sellers": seller_rows}


# --------------------------------------------------------------------------- time


def sample_purchase_times(rng: np.random.Generator, n: int) -> np.ndarray:
    """Purchase timestamps (epoch seconds) following the full data's monthly shape."""
    months = list(vocab.MONTHLY_ORDERS)
    month_idx = rng.choice(len(months), size=n, p=_weights(list(vocab.MONTHLY_ORDERS.values())))
    starts = np.array([np.datetime64(f"{m}-01", "s") for m in months])
    ends = np.array([np.datetime64(f"{m}-01", "M") + 1 for m in months]).astype("datetime64[s]")
    first = np.datetime64("2016-09-04", "s")
    starts = np.maximum(starts, first)
    span = (ends - starts).astype(np.int64)
    offset = (rng.random(n) * span[month_idx]).astype(np.int64)
    # Black Friday 2017: ~15% of November's orders fall on one day
    bf = np.datetime64(vocab.BLACK_FRIDAY, "s")
    nov = np.flatnonzero((np.array(months)[month_idx] == "2017-11") & (rng.random(n) < 0.13))
    day_start = starts[month_idx] + (offset // DAY) * DAY
    day_start[nov] = bf
    # hour of day: quiet at night, busiest late morning to evening
    hour_w = _weights(
        [3, 2, 1, 1, 1, 1, 2, 5, 12, 20, 26, 28, 26, 26, 28, 27, 26, 26, 24, 24, 26, 27, 24, 15]
    )
    seconds = rng.choice(24, size=n, p=hour_w) * HOUR + rng.integers(0, HOUR, n)
    ts = (day_start - _EPOCH).astype(np.int64) + seconds
    return np.minimum(ts, HISTORY_END_S)


# --------------------------------------------------------------------------- orders


@dataclass
class Customers:
    uid: list[str]
    state: np.ndarray
    zip_idx: np.ndarray
    city: list[str]
    spend: np.ndarray
    loyalty: np.ndarray
    rate: np.ndarray  # purchases per year while active
    pref_cat: np.ndarray
    pref_pay: np.ndarray
    repeat_cat: np.ndarray


def build_customers(rng: np.random.Generator, n: int, zips: Zips, catalog: Catalog) -> Customers:
    states = rng.choice(
        list(vocab.CUSTOMER_STATES), size=n, p=_weights(list(vocab.CUSTOMER_STATES.values()))
    )
    zip_idx = _zip_for_states(rng, zips, states)
    cat_w = _weights(
        [c[2] for c in vocab.CATEGORIES] + [c[1] for c in vocab.UNTRANSLATED_CATEGORIES]
    )
    pref_cat = rng.choice(len(cat_w), size=n, p=cat_w)
    repeat_cat = np.isin(
        np.array(catalog.category_names, dtype=object)[pref_cat], list(vocab.REPEAT_CATEGORIES)
    )
    pay_types = list(vocab.PAYMENT_TYPES)
    return Customers(
        uid=_hex_ids(rng, n),
        state=states,
        zip_idx=zip_idx,
        city=_customer_city(rng, zips.city[zip_idx], variant_rate=0.002),
        spend=rng.lognormal(0, 0.35, n),
        loyalty=rng.normal(0, 1, n),
        rate=rng.gamma(2.0, 1.5, n) * np.where(repeat_cat, 1.6, 1.0),
        pref_cat=pref_cat,
        pref_pay=rng.choice(len(pay_types), size=n, p=_weights(list(vocab.PAYMENT_TYPES.values()))),
        repeat_cat=repeat_cat,
    )


def return_logit(
    cust: Customers, idx: np.ndarray, late: np.ndarray, score: np.ndarray, boleto: np.ndarray
) -> np.ndarray:
    """Log-odds that a customer buys again after an order: latent traits + experience."""
    return (
        RETURN_INTERCEPT
        + 0.9 * cust.loyalty[idx]
        + 0.7 * cust.repeat_cat[idx]
        + 0.5 * np.log(cust.spend[idx])
        - 1.1 * late
        - 0.7 * (score <= 2)
        + 0.35 * (score == 5)
        - 0.4 * boleto
    )


@dataclass
class OrderBlock:
    """One generation of orders (vectorised) and their child rows."""

    cust: np.ndarray
    purchase: np.ndarray
    late: np.ndarray
    score: np.ndarray
    boleto: np.ndarray
    rows: dict[str, list[list[str]]]


def _simulate_orders(
    rng: np.random.Generator,
    cust: Customers,
    idx: np.ndarray,
    purchase: np.ndarray,
    catalog: Catalog,
    zips: Zips,
) -> OrderBlock:
    n = len(idx)
    order_ids = _hex_ids(rng, n)
    customer_ids = _hex_ids(rng, n)
    statuses = np.array(list(vocab.STATUS_MIX))
    status = statuses[
        rng.choice(len(statuses), size=n, p=_weights(list(vocab.STATUS_MIX.values())))
    ]
    pay_types = np.array(list(vocab.PAYMENT_TYPES))
    pay = pay_types[
        np.where(
            rng.random(n) < 0.85,
            cust.pref_pay[idx],
            rng.choice(len(pay_types), n, p=_weights(list(vocab.PAYMENT_TYPES.values()))),
        )
    ]
    boleto = pay == "boleto"

    # --- timestamps
    approve_lag = np.where(boleto, rng.gamma(1.2, 20 * HOUR, n), rng.exponential(0.4 * HOUR, n))
    approved = purchase + approve_lag.astype(np.int64) + rng.integers(30, 900, n)
    has_approved = status != "created"
    has_approved &= ~((status == "canceled") & (rng.random(n) < 0.2))
    state_days = np.array([vocab.STATE_GEO[s][2] for s in cust.state[idx]])
    carrier = approved + (rng.gamma(2.0, 1.4, n) * DAY).astype(np.int64)
    has_carrier = np.isin(status, ["delivered", "shipped"]) | (
        (status == "canceled") & (rng.random(n) < 0.1)
    )
    transit = rng.gamma(2.0, state_days / 2.0 * 0.68) * DAY
    # a share of parcels hits a disruption (strikes, lost parcels, remote areas)
    disrupted = rng.random(n) < 0.08
    transit = transit + disrupted * rng.gamma(2.0, 6.0, n) * DAY
    delivered = carrier + transit.astype(np.int64)
    est_days = np.round(state_days * 1.25 + 9 + rng.normal(0, 3, n)).clip(3, None)
    estimated = (purchase // DAY + est_days.astype(np.int64)) * DAY
    # deliveries that would land after the data's end are still in transit
    in_transit = (status == "delivered") & (delivered > HISTORY_END_S)
    status[in_transit] = "shipped"
    has_delivered = status == "delivered"

    delivered_idx = np.flatnonzero(has_delivered)
    floor = 1 if n >= 1_000 else 0  # guarantee rare quirks in the big first-order block only
    # quirks: delivered without approval / delivery date, carrier before approval,
    # delivered before handed to carrier
    q = _pick(rng, n, _at_least(14 / 96_478, len(delivered_idx), floor), has_delivered)
    has_approved[q] = False
    q = _pick(
        rng, n, _at_least(8 / 96_478, len(delivered_idx), floor), has_delivered & has_approved
    )
    has_delivered[q] = False
    q = _pick(rng, n, _at_least(0.0141, len(delivered_idx), floor), has_delivered & has_approved)
    carrier[q] = approved[q] - rng.integers(HOUR, 3 * DAY, len(q))
    q = _pick(rng, n, _at_least(23 / 96_478, len(delivered_idx), floor), has_delivered)
    delivered[q] = carrier[q] - rng.integers(HOUR, 2 * DAY, len(q))

    late = has_delivered & (delivered > estimated + DAY - 1)

    # --- review score depends on the experience
    on_time_p = _weights([6, 3, 8, 21, 62])
    late_p = _weights([46, 10, 13, 11, 20])
    undelivered_p = _weights([60, 9, 10, 6, 15])
    score = (
        np.where(
            late,
            rng.choice(5, n, p=late_p),
            np.where(
                has_delivered, rng.choice(5, n, p=on_time_p), rng.choice(5, n, p=undelivered_p)
            ),
        )
        + 1
    )

    # --- items
    n_items_dist = _weights([88_863, 7_516, 1_322, 505, 204, 198, 22, 8, 3, 8, 2, 5])
    n_items = rng.choice(len(n_items_dist), n, p=n_items_dist) + 1
    no_items = (
        (status == "unavailable")
        | (status == "created")
        | ((status == "canceled") & (rng.random(n) < 0.26))
    )
    n_items[no_items] = 0
    first_product = rng.choice(
        len(catalog.product_ids), size=n, p=_weights(catalog.product_popularity)
    )
    from_pref = rng.random(n) < 0.6
    pref = cust.pref_cat[idx]
    for cat in np.unique(pref[from_pref]):
        mask = from_pref & (pref == cat)
        pool = catalog.products_by_cat.get(int(cat))
        if pool is None or len(pool) == 0:
            continue
        first_product[mask] = rng.choice(
            pool, size=int(mask.sum()), p=_weights(catalog.product_popularity[pool])
        )
    item_order = np.repeat(np.arange(n), n_items)
    item_seq = (
        np.concatenate([np.arange(1, k + 1) for k in n_items])
        if n_items.sum()
        else np.array([], int)
    )
    item_product = first_product[item_order]
    other = (item_seq > 1) & (rng.random(len(item_seq)) < 0.25)
    item_product[other] = rng.choice(
        len(catalog.product_ids), size=int(other.sum()), p=_weights(catalog.product_popularity)
    )
    price = np.round(
        np.maximum(
            0.85,
            catalog.product_price[item_product]
            * rng.lognormal(0, 0.05, len(item_order))
            * cust.spend[idx][item_order] ** 0.3,
        ),
        2,
    )
    far = (
        np.array([vocab.STATE_GEO[s][2] for s in cust.state[idx][item_order]])
        if len(item_order)
        else np.array([])
    )
    freight = np.round(
        2.5
        + catalog.product_weight_g[item_product] / 1000 * 1.6
        + far * 0.65
        + rng.gamma(2.0, 2.5, len(item_order)),
        2,
    )
    freight[rng.random(len(freight)) < 0.0034] = 0.0
    limit_base = np.where(has_approved, approved, purchase)
    shipping_limit = limit_base[item_order] + 6 * DAY + rng.integers(0, 18 * HOUR, len(item_order))

    order_total = np.bincount(item_order, weights=price + freight, minlength=n)
    order_total = np.where(n_items > 0, order_total, np.round(rng.lognormal(4.9, 0.8, n), 2))

    # --- payments
    pay_rows: list[list[str]] = []
    installment_keys = np.array(list(vocab.INSTALLMENTS))
    installments = installment_keys[
        rng.choice(len(installment_keys), n, p=_weights(list(vocab.INSTALLMENTS.values())))
    ]
    interest = (pay == "credit_card") & (installments > 1) & (rng.random(n) < 0.03)
    with_voucher = (pay != "voucher") & (rng.random(n) < 0.025)
    not_defined = set(
        _pick(
            rng, n, _at_least(3 / 99_441, n, floor), (status == "canceled") & (n_items == 0)
        ).tolist()
    )
    zero_voucher = set(_pick(rng, n, _at_least(6 / 99_441, n, floor), n_items > 0).tolist())
    for i in range(n):
        if i in not_defined:  # canceled orders whose payment was never defined (value 0)
            pay_rows.append([order_ids[i], "1", "not_defined", "1", "0.0"])
            continue
        total = float(order_total[i]) * (1 + 0.015 * installments[i] if interest[i] else 1.0)
        seq = 1
        if with_voucher[i]:
            for _ in range(int(rng.integers(1, 4))):
                part = round(total * float(rng.uniform(0.05, 0.4)), 2)
                pay_rows.append([order_ids[i], str(seq), "voucher", "1", str(part)])
                total -= part
                seq += 1
        inst = int(installments[i]) if pay[i] == "credit_card" else 1
        pay_rows.append([order_ids[i], str(seq), str(pay[i]), str(inst), str(round(total, 2))])
        if i in zero_voucher:  # a voucher worth nothing, as Olist records a few
            pay_rows.append([order_ids[i], str(seq + 1), "voucher", "1", "0.0"])

    # --- reviews
    review_rows = _reviews(
        rng, order_ids, score, status, has_delivered, delivered, estimated, purchase
    )

    item_rows = [
        [
            order_ids[o],
            str(s),
            catalog.product_ids[p],
            catalog.seller_ids[catalog.product_seller[p]],
            t,
            pr,
            fr,
        ]
        for o, s, p, t, pr, fr in zip(
            item_order.tolist(),
            item_seq.tolist(),
            item_product.tolist(),
            _fmt_ts(shipping_limit),
            _fmt_money(price),
            _fmt_money(freight),
            strict=True,
        )
    ]
    order_rows = [
        list(r)
        for r in zip(
            order_ids,
            customer_ids,
            status.tolist(),
            _fmt_ts(purchase),
            _fmt_ts(approved, has_approved),
            _fmt_ts(carrier, has_carrier),
            _fmt_ts(delivered, has_delivered),
            _fmt_ts(estimated),
            strict=True,
        )
    ]
    customer_rows = [
        [
            customer_ids[i],
            cust.uid[c],
            f"{zips.prefix[cust.zip_idx[c]]:05d}",
            cust.city[c],
            cust.state[c],
        ]
        for i, c in enumerate(idx.tolist())
    ]
    return OrderBlock(
        cust=idx,
        purchase=purchase,
        late=late,
        score=score,
        boleto=boleto,
        rows={
            "orders": order_rows,
            "customers": customer_rows,
            "items": item_rows,
            "payments": pay_rows,
            "reviews": review_rows,
        },
    )


def _comment(rng: np.random.Generator, score: int) -> tuple[str, str]:
    bad = score <= 2
    title = ""
    if rng.random() < 0.12:
        title = str(rng.choice(vocab.BAD_TITLES if bad else vocab.GOOD_TITLES))
    message = ""
    if rng.random() < (0.75 if bad else 0.38):
        bank = (
            vocab.BAD_MESSAGES
            if bad
            else (vocab.MIXED_MESSAGES if score == 3 else vocab.GOOD_MESSAGES)
        )
        message = str(rng.choice(bank))
        if rng.random() < 0.1:  # multi-line comments, as customers type them
            message += "\r\n" + str(rng.choice(bank))
    return title, message


def _reviews(
    rng: np.random.Generator,
    order_ids: list[str],
    score: np.ndarray,
    status: np.ndarray,
    has_delivered: np.ndarray,
    delivered: np.ndarray,
    estimated: np.ndarray,
    purchase: np.ndarray,
) -> list[list[str]]:
    n = len(order_ids)
    anchor = np.where(has_delivered, delivered, np.maximum(estimated, purchase + DAY))
    created = (anchor // DAY + rng.integers(0, 3, n)) * DAY
    answered = created + (rng.exponential(2.5, n) * DAY).astype(np.int64) + rng.integers(60, DAY, n)
    created_s, answered_s = _fmt_ts(created), _fmt_ts(answered)
    review_ids = _hex_ids(rng, n)
    rows: list[list[str]] = []
    n_reviews = np.ones(n, dtype=int)
    n_reviews[rng.random(n) < 0.0077] = 0
    n_reviews[rng.random(n) < 0.0055] = 2
    for i in range(n):
        for k in range(n_reviews[i]):
            s = int(score[i]) if k == 0 else int(rng.integers(1, 6))
            title, message = _comment(rng, s)
            rid = review_ids[i] if k == 0 else _hex_ids(rng, 1)[0]
            rows.append([rid, order_ids[i], str(s), title, message, created_s[i], answered_s[i]])
    # the same review id attached to several orders (a real quirk)
    for a, b in _pairs(rng, len(rows), _at_least(0.0082, len(rows), floor=2)):
        rows[b][0] = rows[a][0]
    return rows


def _pairs(rng: np.random.Generator, n: int, k: int) -> Iterator[tuple[int, int]]:
    if n < 2:
        return iter(())
    chosen = rng.choice(n, size=min(n - n % 2, 2 * k), replace=False)
    return zip(chosen[0::2].tolist(), chosen[1::2].tolist(), strict=True)


# --------------------------------------------------------------------------- writer


class _Writers:
    def __init__(self, out: Path) -> None:
        self.files = {}
        self.writers = {}
        self.counts = {}
        for name, header in vocab.HEADERS.items():
            fh = (out / name).open("w", encoding="utf-8", newline="")
            self.files[name] = fh
            self.writers[name] = csv.writer(fh, lineterminator="\n")
            self.writers[name].writerow(header)
            self.counts[name] = 0

    def write(self, name: str, rows: list[list[str]]) -> None:
        self.writers[name].writerows(rows)
        self.counts[name] += len(rows)

    def close(self) -> None:
        for fh in self.files.values():
            fh.close()


FILE_OF = {
    "orders": "olist_orders_dataset.csv",
    "customers": "olist_customers_dataset.csv",
    "items": "olist_order_items_dataset.csv",
    "payments": "olist_order_payments_dataset.csv",
    "reviews": "olist_order_reviews_dataset.csv",
    "products": "olist_products_dataset.csv",
    "sellers": "olist_sellers_dataset.csv",
    "geolocation": "olist_geolocation_dataset.csv",
    "translation": "product_category_name_translation.csv",
}


def _run_customers_chunk(
    rng: np.random.Generator, cust: Customers, catalog: Catalog, zips: Zips
) -> list[OrderBlock]:
    """Simulate every order of a chunk of customers, generation by generation."""
    n = len(cust.uid)
    idx = np.arange(n)
    purchase = sample_purchase_times(rng, n)
    blocks: list[OrderBlock] = []
    while len(idx):
        block = _simulate_orders(rng, cust, idx, purchase, catalog, zips)
        blocks.append(block)
        p = 1 / (1 + np.exp(-return_logit(cust, idx, block.late, block.score, block.boleto)))
        back = rng.random(len(idx)) < p
        gap = (rng.exponential(365 / cust.rate[idx]) * DAY).astype(np.int64) + 2 * DAY
        nxt = purchase + gap
        keep = back & (nxt <= HISTORY_END_S)
        idx, purchase = idx[keep], nxt[keep]
    return blocks


def _trim(blocks: list[OrderBlock], budget: int) -> list[OrderBlock]:
    """Keep exactly ``budget`` orders (first orders first) and their child rows."""
    kept: list[OrderBlock] = []
    for block in blocks:
        if budget <= 0:
            break
        if len(block.rows["orders"]) > budget:
            keep_ids = {r[0] for r in block.rows["orders"][:budget]}
            keep_cust = {r[1] for r in block.rows["orders"][:budget]}
            block.rows = {
                "orders": block.rows["orders"][:budget],
                "customers": [r for r in block.rows["customers"] if r[0] in keep_cust],
                "items": [r for r in block.rows["items"] if r[0] in keep_ids],
                "payments": [r for r in block.rows["payments"] if r[0] in keep_ids],
                "reviews": [r for r in block.rows["reviews"] if r[1] in keep_ids],
            }
            block.cust = block.cust[:budget]
        budget -= len(block.rows["orders"])
        kept.append(block)
    return kept


def _geolocation(rng: np.random.Generator, zips: Zips, total: int, writer: _Writers) -> None:
    n_zip = len(zips.prefix)
    covered = rng.random(n_zip) > 0.005  # a few customer zips have no geolocation at all
    covered[: min(3, n_zip)] = True
    w = zips.weight * covered
    per_zip = rng.multinomial(total, _weights(w))
    accented_style = rng.random(n_zip) < 0.55
    outside = set(_pick(rng, total, _at_least(29 / 1_000_163, total, floor=2)).tolist())
    order = np.argsort(zips.prefix)
    row_no = 0
    batch: list[list[str]] = []
    for z in order.tolist():
        k = int(per_zip[z])
        if k == 0:
            continue
        base = zips.city[z] if accented_style[z] else strip_accents(zips.city[z])
        lats = zips.lat[z] + rng.normal(0, 0.012, k)
        lngs = zips.lng[z] + rng.normal(0, 0.012, k)
        dup = rng.random(k) < 0.262
        dup[0] = False
        variant = rng.random(k) < 0.01
        prefix = f"{zips.prefix[z]:05d}"
        prev: list[str] | None = None
        for j in range(k):
            if dup[j] and prev is not None:
                row = list(prev)
            else:
                city = base
                if variant[j]:
                    city = [strip_accents(base), base.replace(" ", ""), base + " ", base.upper()][
                        j % 4
                    ]
                row = [prefix, repr(float(lats[j])), repr(float(lngs[j])), city, zips.state[z]]
            if row_no in outside:  # points far outside Brazil (a real quirk)
                row = [
                    prefix,
                    repr(float(rng.uniform(25, 45))),
                    repr(float(rng.uniform(-10, 15))),
                    base,
                    zips.state[z],
                ]
            batch.append(row)
            prev = row
            row_no += 1
        if len(batch) >= 200_000:
            writer.write("olist_geolocation_dataset.csv", batch)
            batch = []
    writer.write("olist_geolocation_dataset.csv", batch)


def generate(
    out_dir: Path | str,
    scale: float = 1.0,
    seed: int = 1,
    chunk_customers: int = 60_000,
    progress: Progress | None = None,
) -> GenerationSummary:
    """Write the 9 Olist CSVs (and the latent side file) for ``scale`` × the full data set."""
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    say = progress or (lambda _msg: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / LATENT_DIR).mkdir(exist_ok=True)
    root = np.random.SeedSequence(seed)
    ref_seq, geo_seq, chunk_root = root.spawn(3)
    rng = np.random.default_rng(ref_seq)

    zips = build_zips(rng, scale)
    catalog, ref_rows = build_catalog(rng, zips, scale)
    writer = _Writers(out)
    summary = GenerationSummary(out_dir=out, scale=scale, seed=seed)
    latent_fh = (out / LATENT_DIR / LATENT_FILE).open("w", encoding="utf-8", newline="")
    latent = csv.writer(latent_fh, lineterminator="\n")
    latent.writerow(
        [
            "customer_unique_id",
            "loyalty",
            "spend_level",
            "purchase_rate_per_year",
            "preferred_category",
            "preferred_payment_type",
            "repeat_category",
            "baseline_return_probability",
            "n_orders",
        ]
    )
    try:
        writer.write(FILE_OF["translation"], [[pt, en] for pt, en, _ in vocab.CATEGORIES])
        writer.write(FILE_OF["products"], ref_rows["products"])
        writer.write(FILE_OF["sellers"], ref_rows["sellers"])
        say(
            f"catalogue: {len(catalog.product_ids):,} products, {len(catalog.seller_ids):,} sellers"
        )

        target = max(50, int(round(vocab.FULL_COUNTS["orders"] * scale)))
        written = 0
        chunk_no = 0
        pay_types = list(vocab.PAYMENT_TYPES)
        while written < target:
            crng = np.random.default_rng(chunk_root.spawn(1)[0])
            n_cust = min(chunk_customers, int((target - written) / 1.035) + 20)
            cust = build_customers(crng, n_cust, zips, catalog)
            blocks = _run_customers_chunk(crng, cust, catalog, zips)
            blocks = _trim(blocks, target - written)
            kept_cust = np.zeros(n_cust, dtype=int)
            for b in blocks:
                for name in ("orders", "customers", "items", "payments", "reviews"):
                    writer.write(FILE_OF[name], b.rows[name])
                np.add.at(kept_cust, b.cust, 1)
                written += len(b.rows["orders"])
            base_p = 1 / (
                1
                + np.exp(
                    -return_logit(
                        cust,
                        np.arange(n_cust),
                        np.zeros(n_cust),
                        np.full(n_cust, 4),
                        np.zeros(n_cust),
                    )
                )
            )
            latent.writerows(
                [
                    cust.uid[i],
                    f"{cust.loyalty[i]:.4f}",
                    f"{cust.spend[i]:.4f}",
                    f"{cust.rate[i]:.4f}",
                    catalog.category_names[cust.pref_cat[i]],
                    pay_types[cust.pref_pay[i]],
                    int(cust.repeat_cat[i]),
                    f"{base_p[i]:.5f}",
                    int(kept_cust[i]),
                ]
                for i in np.flatnonzero(kept_cust > 0).tolist()
            )
            summary.customers += int((kept_cust > 0).sum())
            chunk_no += 1
            say(f"orders: {written:,}/{target:,} (chunk {chunk_no})")
        geo_total = max(1_000, int(round(vocab.FULL_COUNTS["geolocation"] * scale)))
        _geolocation(np.random.default_rng(geo_seq), zips, geo_total, writer)
        say(f"geolocation: {geo_total:,} rows")
    finally:
        writer.close()
        latent_fh.close()
    summary.rows = dict(writer.counts)
    (out / LATENT_DIR / MANIFEST_FILE).write_text(json.dumps(summary.as_dict(), indent=2) + "\n")
    return summary
