{#- Gold is consistent: every revenue mart adds up to the order fact (`model`). A mart left
    at an older build (an incremental publish that skipped it) or a deletion that did not
    reach it fails this test, and with it the publish (severity error = critical). One row
    per mart measure that does not add up. -#}
{% test revenue_marts_reconcile(model) %}

with

orders as (

    select * from {{ model }}

),

{%- set measures = [
    ('revenue', "case when order_status = 'delivered' then items_value else 0 end"),
    ('gmv', 'case when ' ~ is_placed() ~ ' then order_value else 0 end'),
    ('placed_orders', 'case when ' ~ is_placed() ~ ' then 1 else 0 end'),
    ('items_value', 'items_value'),
    ('payments', 'payment_value'),
    ('placed_payments', 'case when ' ~ is_placed() ~ ' then payment_value else 0 end'),
] %}

expected as (

    {% for measure, value in measures %}
    select
        '{{ measure }}' as measure,
        cast(sum({{ value }}) as {{ type_money() }}) as total
    from orders
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

{%- set marts = [
    ('agg_sales_daily', 'revenue', 'sum(revenue)'),
    ('agg_sales_daily', 'gmv', 'sum(gmv)'),
    ('agg_sales_daily', 'placed_orders', 'sum(orders)'),
    ('agg_sales_kpi', 'revenue', 'sum(revenue)'),
    ('agg_sales_kpi', 'gmv', 'sum(gmv)'),
    ('agg_geo_sales', 'revenue', 'sum(revenue)'),
    ('agg_geo_sales', 'gmv', 'sum(gmv)'),
    ('agg_hourly_metrics', 'gmv', 'sum(gmv)'),
    ('agg_hourly_metrics', 'placed_orders', 'sum(orders)'),
    ('fct_seller_performance', 'revenue', 'sum(revenue)'),
    ('dim_sellers', 'revenue', 'sum(revenue)'),
    ('fct_customer_ltv', 'gmv', 'sum(historical_revenue)'),
    ('dim_customers', 'gmv', 'sum(spend)'),
    ('fct_order_items', 'items_value', 'sum(price)'),
    ('fct_order_payments', 'payments', 'sum(payment_value)'),
    ('agg_payment_behavior', 'placed_payments', 'sum(payment_value)'),
] %}

marts as (

    {% for mart, measure, total in marts %}
    select
        '{{ mart }}' as mart,
        '{{ measure }}' as measure,
        cast({{ total }} as {{ type_money() }}) as total
    from {{ ref(mart) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

compared as (

    select
        marts.mart,
        marts.measure,
        marts.total as mart_total,
        expected.total as fct_orders_total
    from marts
    inner join expected on marts.measure = expected.measure

),

mismatched as (

    select * from compared
    where abs(coalesce(mart_total, 0) - coalesce(fct_orders_total, 0)) > 0.005

)

select * from mismatched

{% endtest %}
