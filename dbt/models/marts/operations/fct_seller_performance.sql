{{
    config(
        materialized='incremental',
        unique_key=['seller_id', 'month_start'],
        incremental_strategy='merge',
        on_schema_change='fail',
        post_hook="{{ delete_vanished_in_months(['seller_id', 'month_start'], '
            select distinct
                seller_id,
                ' ~ purchase_month('purchased_at') ~ ' as month_start
            from ' ~ ref('fct_order_items') ~ '
            where ' ~ is_placed()) }}",
    )
}}

{#- Seller × purchase month. A seller-month is a delay outlier when its average delivery
    time is above Q3 + 1.5 × IQR of all sellers' averages in that month.

    Incremental by month, as agg_sales_kpi (touched_periods.sql): every figure of a row,
    the outlier cut points included, comes from its month's orders alone. -#}
{%- set months = touched_periods('month', ref('fct_orders')) %}
with

order_items as (

    select * from {{ ref('fct_order_items') }}
    where {{ is_placed() }} and {{ in_periods(purchase_month('purchased_at'), months) }}

),

orders as (

    select * from {{ ref('fct_orders') }}
    where {{ in_periods(purchase_month('purchased_at'), months) }}

),

seller_orders as (

    select
        order_items.seller_id,
        cast({{ dbt.date_trunc('month', 'order_items.purchased_at') }} as date) as month_start,
        order_items.order_id,
        count(*) as items,
        sum(case when order_items.order_status = 'delivered' then order_items.price else 0 end) as revenue
    from order_items
    group by
        order_items.seller_id,
        cast({{ dbt.date_trunc('month', 'order_items.purchased_at') }} as date),
        order_items.order_id

),

with_orders as (

    select
        seller_orders.*,
        orders.order_status,
        orders.delivery_days,
        orders.is_late,
        orders.review_score
    from seller_orders
    inner join orders on seller_orders.order_id = orders.order_id

),

aggregated as (

    select
        seller_id,
        month_start,
        count(*) as orders,
        sum(items) as items,
        sum(revenue) as revenue,
        avg(case when order_status = 'delivered' then delivery_days end) as avg_delivery_days,
        count(case when order_status = 'delivered' then 1 end) as delivered_orders,
        count(case when order_status = 'delivered' and not is_late then 1 end) as on_time_orders,
        avg(review_score) as avg_review_score
    from with_orders
    group by seller_id, month_start

),

product_sales as (

    select
        seller_id,
        cast({{ dbt.date_trunc('month', 'purchased_at') }} as date) as month_start,
        product_id,
        count(*) as units,
        row_number() over (
            partition by seller_id, cast({{ dbt.date_trunc('month', 'purchased_at') }} as date)
            order by count(*) desc, sum(price) desc, product_id
        ) as sales_rank
    from order_items
    group by seller_id, cast({{ dbt.date_trunc('month', 'purchased_at') }} as date), product_id

),

monthly_quartiles as (

    {{ percentiles_by(
        'aggregated',
        ['month_start'],
        [
            ('q1_delivery_days', 'avg_delivery_days', 0.25),
            ('q3_delivery_days', 'avg_delivery_days', 0.75),
        ]
    ) }}

),

monthly_spread as (

    select
        aggregated.*,
        monthly_quartiles.q1_delivery_days,
        monthly_quartiles.q3_delivery_days
    from aggregated
    left join monthly_quartiles on aggregated.month_start = monthly_quartiles.month_start

),

final as (

    select
        cast(monthly_spread.seller_id as {{ dbt.type_string() }}) as seller_id,
        monthly_spread.month_start,
        cast(monthly_spread.orders as {{ dbt.type_bigint() }}) as orders,
        cast(monthly_spread.items as {{ dbt.type_bigint() }}) as items,
        cast(monthly_spread.revenue as {{ type_money() }}) as revenue,
        cast(monthly_spread.avg_delivery_days as {{ type_rate() }}) as avg_delivery_days,
        cast(
            {{ ratio('monthly_spread.on_time_orders', 'monthly_spread.delivered_orders') }}
            as {{ type_rate() }}
        ) as on_time_rate,
        cast(monthly_spread.avg_review_score as {{ type_rate() }}) as avg_review_score,
        cast(product_sales.product_id as {{ dbt.type_string() }}) as best_selling_product_id,
        coalesce(
            monthly_spread.avg_delivery_days > (
                monthly_spread.q3_delivery_days
                + 1.5 * (monthly_spread.q3_delivery_days - monthly_spread.q1_delivery_days)
            ),
            false
        ) as is_delay_outlier
    from monthly_spread
    left join product_sales
        on monthly_spread.seller_id = product_sales.seller_id
        and monthly_spread.month_start = product_sales.month_start
        and product_sales.sales_rank = 1

),

merged as (

    {{ rows_of_months('final', months) }}

)

select * from merged
