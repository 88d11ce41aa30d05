{#- Month × category × customer state. An order with items in two categories counts once
    in each; its delivery and review count once per category it touches. -#}
with

order_items as (

    select * from {{ ref('fct_order_items') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

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
        cast({{ dbt.date_trunc('month', 'orders.purchased_at') }} as date) as month_start,
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

)

select * from final
