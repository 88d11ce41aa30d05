{#- Customers whose last order (any status) is 30, 60 or 90+ days before the run date. -#}
with

customers as (

    select * from {{ ref('dim_customers') }}

),

measured as (

    select
        customer_unique_id,
        last_order_at,
        orders_count,
        spend,
        customer_state,
        {#- noqa LT05: this line is short; the SQL run_date() expands to is not. -#}
        {{ dbt.datediff('last_order_at', run_date(), 'day') }} as days_since_last_order  -- noqa: LT05
    from customers
    where last_order_at <= {{ run_date() }}

),

banded as (

    select
        measured.*,
        case
            when measured.days_since_last_order >= 90 then '90+'
            when measured.days_since_last_order >= 60 then '60-89'
            else '30-59'
        end as risk_band
    from measured
    where measured.days_since_last_order >= 30

),

final as (

    select
        cast(customer_unique_id as {{ dbt.type_string() }}) as customer_unique_id,
        last_order_at,
        cast(days_since_last_order as {{ dbt.type_bigint() }}) as days_since_last_order,
        cast(risk_band as {{ dbt.type_string() }}) as risk_band,
        cast(orders_count as {{ dbt.type_bigint() }}) as orders_count,
        cast(spend as {{ type_money() }}) as spend,
        cast(customer_state as {{ dbt.type_string() }}) as customer_state
    from banded

)

select * from final
