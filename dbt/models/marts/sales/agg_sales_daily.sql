with

orders as (

    select * from {{ ref('fct_orders') }}

),

aggregated as (

    select
        cast(purchased_at as date) as date_day,
        count(distinct case when {{ is_placed() }} then order_id end) as orders,
        count(distinct case when {{ is_placed() }} then customer_unique_id end) as customers,
        sum(case when order_status = 'delivered' then items_value else 0 end) as revenue,
        sum(case when {{ is_placed() }} then order_value else 0 end) as gmv
    from orders
    group by cast(purchased_at as date)

),

final as (

    select
        date_day,
        cast(orders as {{ dbt.type_bigint() }}) as orders,
        cast(customers as {{ dbt.type_bigint() }}) as customers,
        cast(revenue as {{ type_money() }}) as revenue,
        cast(gmv as {{ type_money() }}) as gmv,
        cast({{ ratio('gmv', 'orders') }} as {{ type_money() }}) as aov
    from aggregated

)

select * from final
