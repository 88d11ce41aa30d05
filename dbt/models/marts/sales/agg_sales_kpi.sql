{{
    config(
        materialized='incremental',
        unique_key=['month_start', 'category', 'customer_state'],
        incremental_strategy='merge',
        on_schema_change='fail',
        post_hook="{{ delete_vanished_in_months(['month_start', 'category', 'customer_state'], '
            select distinct
                ' ~ purchase_month('orders.purchased_at') ~ ' as month_start,
                items.category,
                orders.customer_state
            from ' ~ ref('fct_order_items') ~ ' as items
            inner join ' ~ ref('fct_orders') ~ ' as orders on items.order_id = orders.order_id') }}",
    )
}}

{#- Month × category × customer state. An order with items in two categories counts once
    in each; its delivery and review count once per category it touches.

    Incremental by month (touched_periods.sql): a batch run rebuilds the months of the
    orders it touched, from all of each month's orders, and merges them; a month's rows
    whose key no longer has an order are deleted by the post-hook. Without the batch's
    vars every month is computed and the rows that differ are merged. -#}
{%- set months = touched_periods('month', ref('fct_orders')) %}
with

order_items as (

    select * from {{ ref('fct_order_items') }}
    where {{ in_periods(purchase_month('purchased_at'), months) }}

),

orders as (

    select * from {{ ref('fct_orders') }}
    where {{ in_periods(purchase_month('purchased_at'), months) }}

),

order_categories as (

    select
        order_items.order_id,
        order_items.category,
        sum(order_items.price) as items_value,
        sum(order_items.item_value) as items_gmv
    from order_items
    group by order_items.order_id, order_items.category

),

joined as (

    select
        {{ purchase_month('orders.purchased_at') }} as month_start,
        order_categories.category,
        orders.customer_state,
        orders.order_id,
        orders.customer_unique_id,
        orders.order_status,
        orders.is_late,
        orders.review_score,
        order_categories.items_value,
        order_categories.items_gmv
    from order_categories
    inner join orders on order_categories.order_id = orders.order_id

),

aggregated as (

    select
        month_start,
        category,
        customer_state,
        count(distinct case when {{ is_placed() }} then order_id end) as orders,
        count(distinct case when {{ is_placed() }} then customer_unique_id end) as customers,
        sum(case when order_status = 'delivered' then items_value else 0 end) as revenue,
        sum(case when {{ is_placed() }} then items_gmv else 0 end) as gmv,
        count(case when order_status = 'delivered' then 1 end) as delivered_orders,
        count(case when order_status = 'delivered' and not is_late then 1 end) as on_time_orders,
        avg(review_score) as avg_review_score
    from joined
    group by month_start, category, customer_state

),

final as (

    select
        month_start,
        cast(category as {{ dbt.type_string() }}) as category,
        cast(customer_state as {{ dbt.type_string() }}) as customer_state,
        cast(orders as {{ dbt.type_bigint() }}) as orders,
        cast(customers as {{ dbt.type_bigint() }}) as customers,
        cast(revenue as {{ type_money() }}) as revenue,
        cast(gmv as {{ type_money() }}) as gmv,
        cast({{ ratio('gmv', 'orders') }} as {{ type_money() }}) as aov,
        cast({{ ratio('revenue', 'customers') }} as {{ type_money() }}) as arpu,
        cast({{ ratio('on_time_orders', 'delivered_orders') }} as {{ type_rate() }}) as on_time_rate,
        cast(avg_review_score as {{ type_rate() }}) as avg_review_score
    from aggregated

),

merged as (

    {{ rows_of_months('final', months) }}

)

select * from merged
