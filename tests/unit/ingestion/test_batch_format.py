from __future__ import annotations

import pytest

from ingestion.batches import BatchFormatError, flatten

ORDER = {
    "order_id": "a" * 32,
    "order_status": "approved",
    "order_purchase_timestamp": "2018-10-18 10:00:00",
    "order_approved_at": "2018-10-18 10:05:00",
    "order_estimated_delivery_date": "2018-11-01 00:00:00",
    "customer": {
        "customer_id": "c" * 32,
        "customer_unique_id": "u" * 32,
        "customer_zip_code_prefix": "01012",
        "customer_city": "sao paulo",
        "customer_state": "SP",
    },
    "items": [
        {
            "order_item_id": 1,
            "product_id": "p" * 32,
            "seller_id": "s" * 32,
            "shipping_limit_date": "2018-10-24 10:00:00",
            "price": 10.5,
            "freight_value": 2,
        }
    ],
    "payments": [
        {
            "payment_sequential": 1,
            "payment_type": "credit_card",
            "payment_installments": 2,
            "payment_value": 12.5,
        }
    ],
}


def test_a_batch_flattens_into_the_contract_columns_as_text() -> None:
    rows = flatten({"batch_id": "b", "orders": [ORDER]})
    assert rows["batch_orders"][0]["customer_id"] == "c" * 32
    assert rows["batch_orders"][0]["order_delivered_customer_date"] is None
    assert rows["batch_order_items"][0] == {
        "order_id": "a" * 32,
        "order_item_id": "1",
        "product_id": "p" * 32,
        "seller_id": "s" * 32,
        "shipping_limit_date": "2018-10-24 10:00:00",
        "price": "10.5",
        "freight_value": "2",
    }
    assert rows["batch_order_payments"][0]["payment_value"] == "12.5"
    assert rows["batch_customers"][0]["customer_zip_code_prefix"] == "01012"


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        ({"orders": []}, "$: missing 'batch_id'"),
        ({"batch_id": "b", "orders": {}}, "$.orders: expected a list"),
        (
            {"batch_id": "b", "orders": [{**ORDER, "items": None}]},
            "$.orders[0].items: expected a list",
        ),
        (
            {"batch_id": "b", "orders": [{k: v for k, v in ORDER.items() if k != "customer"}]},
            "$.orders[0]: missing 'customer'",
        ),
        (
            {"batch_id": "b", "orders": [{**ORDER, "payments": [{"payment_sequential": 1}]}]},
            "$.orders[0].payments[0]: missing 'payment_type'",
        ),
        (
            {
                "batch_id": "b",
                "orders": [{**ORDER, "items": [{**ORDER["items"][0], "price": True}]}],
            },
            "$.orders[0].items[0].price: expected a string or a number",
        ),
    ],
)
def test_format_errors_name_the_place_in_the_file(doc: dict, where: str) -> None:
    with pytest.raises(BatchFormatError) as err:
        flatten(doc)
    assert str(err.value).startswith(where)
