with

orders as (

    select * from {{ ref('fct_orders') }}
    where {{ is_placed() }}

),

aggregated as (

    select
        customer_state,
        customer_city,
        count(*) as orders,
        count(distinct customer_unique_id) as customers,
        sum(order_value) as gmv,
        sum(case when order_status = 'delivered' then items_value else 0 end) as revenue
    from orders
    group by customer_state, customer_city

),

final as (

    select
        cast(customer_state as {{ dbt.type_string() }}) as customer_state,
        cast(customer_city as {{ dbt.type_string() }}) as customer_city,
        cast(orders as {{ dbt.type_bigint() }}) as orders,
        cast(customers as {{ dbt.type_bigint() }}) as customers,
        cast(revenue as {{ type_money() }}) as revenue,
        cast(gmv as {{ type_money() }}) as gmv,
        cast({{ ratio('gmv', 'orders') }} as {{ type_money() }}) as aov,
        cast({{ ratio('orders', 'customers') }} as {{ type_rate() }}) as purchase_frequency
    from aggregated

)

select * from final
