{#- New customers by the month of their first order (any status), the running total, and
    growth = new / customers at the end of the previous month. Months without a new
    customer still appear. -#}
with

customers as (

    select * from {{ ref('dim_customers') }}

),

months as (

    select distinct month_start from {{ ref('dim_date') }}
    where date_day <= (select max(cast(customers.first_order_at as date)) from customers)

),

first_orders as (

    select
        cast({{ dbt.date_trunc('month', 'first_order_at') }} as date) as month_start,
        count(*) as new_customers
    from customers
    group by cast({{ dbt.date_trunc('month', 'first_order_at') }} as date)

),

filled as (

    select
        months.month_start,
        coalesce(first_orders.new_customers, 0) as new_customers
    from months
    left join first_orders on months.month_start = first_orders.month_start

),

cumulative as (

    select
        month_start,
        new_customers,
        sum(new_customers) over (
            order by month_start rows between unbounded preceding and current row
        ) as cumulative_customers
    from filled

),

final as (

    select
        month_start,
        cast(new_customers as {{ dbt.type_bigint() }}) as new_customers,
        cast(cumulative_customers as {{ dbt.type_bigint() }}) as cumulative_customers,
        cast(
            {{ ratio('new_customers', 'cumulative_customers - new_customers') }}
            as {{ type_rate() }}
        ) as growth_rate
    from cumulative

)

select * from final
