{#- Delivered orders by customer state and by seller (dimension = 'customer_state' |
    'seller'). An order with two sellers counts once for each. estimate_error_days is
    delivered - estimated (negative = early). -#}
with

orders as (

    select * from {{ ref('fct_orders') }}
    where order_status = 'delivered' and delivered_to_customer_at is not null

),

order_items as (

    select * from {{ ref('fct_order_items') }}

),

order_sellers as (

    select distinct
        order_id,
        seller_id
    from order_items

),

by_dimension as (

    select
        'customer_state' as dimension,
        customer_state as dimension_value,
        order_id,
        delivery_days,
        delay_days,
        is_late
    from orders

    union all

    select
        'seller' as dimension,
        order_sellers.seller_id as dimension_value,
        orders.order_id,
        orders.delivery_days,
        orders.delay_days,
        orders.is_late
    from orders
    inner join order_sellers on orders.order_id = order_sellers.order_id

),

with_p90 as (

    select
        by_dimension.*,
        {{ percentile_over('delivery_days', 0.9, 'dimension, dimension_value') }} as p90_delivery_days
    from by_dimension

),

aggregated as (

    select
        dimension,
        dimension_value,
        count(*) as delivered_orders,
        avg(delivery_days) as avg_delivery_days,
        max(p90_delivery_days) as p90_delivery_days,
        avg(delay_days) as avg_estimate_error_days,
        avg(case when is_late then 1.0 else 0.0 end) as late_rate
    from with_p90
    group by dimension, dimension_value

),

final as (

    select
        cast(dimension as {{ dbt.type_string() }}) as dimension,
        cast(dimension_value as {{ dbt.type_string() }}) as dimension_value,
        cast(delivered_orders as {{ dbt.type_bigint() }}) as delivered_orders,
        cast(avg_delivery_days as {{ type_rate() }}) as avg_delivery_days,
        cast(p90_delivery_days as {{ type_rate() }}) as p90_delivery_days,
        cast(avg_estimate_error_days as {{ type_rate() }}) as avg_estimate_error_days,
        cast(late_rate as {{ type_rate() }}) as late_rate
    from aggregated

)

select * from final
