with

orders as (

    select * from {{ ref('fct_orders') }}

),

ranked as (

    select
        orders.*,
        row_number() over (
            partition by orders.customer_unique_id order by orders.purchased_at desc, orders.order_id asc
        ) as recency_rank
    from orders

),

aggregated as (

    select
        customer_unique_id,
        min(purchased_at) as first_order_at,
        max(purchased_at) as last_order_at,
        count(*) as orders_count,
        sum(case when order_status not in ('canceled', 'unavailable') then order_value else 0 end) as spend,
        max(case when recency_rank = 1 then customer_state end) as customer_state,
        max(case when recency_rank = 1 then customer_city end) as customer_city
    from ranked
    group by customer_unique_id

),

final as (

    select
        cast(customer_unique_id as {{ dbt.type_string() }}) as customer_unique_id,
        first_order_at,
        last_order_at,
        cast(orders_count as {{ dbt.type_bigint() }}) as orders_count,
        cast(spend as {{ type_money() }}) as spend,
        cast(customer_state as {{ dbt.type_string() }}) as customer_state,
        cast(customer_city as {{ dbt.type_string() }}) as customer_city
    from aggregated

)

select * from final
