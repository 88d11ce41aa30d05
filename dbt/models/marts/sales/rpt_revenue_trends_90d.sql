{#- Daily revenue per customer state × category over the 90 days up to the run date, with
    the running total inside the window. -#}
with

order_items as (

    select * from {{ ref('fct_order_items') }}

),

windowed as (

    select *
    from order_items
    where purchased_at <= {{ run_date() }}
        and purchased_at > {{ dbt.dateadd('day', -90, run_date()) }}

),

daily as (

    select
        cast(purchased_at as date) as date_day,
        customer_state,
        category,
        count(distinct case when {{ is_placed() }} then order_id end) as orders,
        sum(case when order_status = 'delivered' then price else 0 end) as revenue,
        sum(case when {{ is_placed() }} then item_value else 0 end) as gmv
    from windowed
    group by cast(purchased_at as date), customer_state, category

),

final as (

    select
        date_day,
        cast(customer_state as {{ dbt.type_string() }}) as customer_state,
        cast(category as {{ dbt.type_string() }}) as category,
        cast(orders as {{ dbt.type_bigint() }}) as orders,
        cast(revenue as {{ type_money() }}) as revenue,
        cast(gmv as {{ type_money() }}) as gmv,
        cast(sum(revenue) over (
            partition by customer_state, category
            order by date_day
            rows between unbounded preceding and current row
        ) as {{ type_money() }}) as revenue_running_total
    from daily

)

select * from final
