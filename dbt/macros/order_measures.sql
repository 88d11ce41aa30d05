{#- Order-level measures defined once for fct_orders and silver.orders_nested: payments
    match when they equal items + freight to the cent; delivery and delay in calendar days;
    an order is late when its delivery date is after the estimated delivery date (dates, not
    timestamps: delivered any time on the estimated day is on time, like delay_days <= 0);
    an undelivered order is never late. Needs payment_value, order_value and the order's
    purchase, delivery and estimate timestamps in scope. -#}
{% macro order_measures() -%}
        abs(payment_value - order_value) < 0.01 as payment_matches,
        {{ dbt.datediff('purchased_at', 'delivered_to_customer_at', 'day') }} as delivery_days,
        {{ dbt.datediff('estimated_delivery_at', 'delivered_to_customer_at', 'day') }} as delay_days,
        coalesce(
            cast(delivered_to_customer_at as date) > cast(estimated_delivery_at as date),
            false
        ) as is_late
{%- endmacro %}
