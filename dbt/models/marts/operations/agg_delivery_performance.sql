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

p90 as (

    {{ percentiles_by(
        'by_dimension',
        ['dimension', 'dimension_value'],
        [('p90_delivery_days', 'delivery_days', 0.9)]
    ) }}

),

aggregated as (

    select
        by_dimension.dimension,
        by_dimension.dimension_value,
        count(*) as delivered_orders,
        avg(by_dimension.delivery_days) as avg_delivery_days,
        avg(by_dimension.delay_days) as avg_estimate_error_days,
        avg(case when by_dimension.is_late then 1.0 else 0.0 end) as late_rate
    from by_dimension
    group by by_dimension.dimension, by_dimension.dimension_value

),

with_p90 as (

    select
        aggregated.*,
        p90.p90_delivery_days
    from aggregated
    left join p90
        on aggregated.dimension = p90.dimension
        -- an order without a customer state is a group of its own
        and aggregated.dimension_value is not distinct from p90.dimension_value

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
    from with_p90

)

select * from final
