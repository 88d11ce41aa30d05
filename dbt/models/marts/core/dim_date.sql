{#- Every day from the first purchase to the last estimated delivery of gold's orders
    (fct_orders, which leaves future-dated orders out). Read from the table, not the staging
    view: the view ranks every delivery ever loaded (0.75 s at scale 10), the table's two
    columns are a 7 ms read. -#}
with

orders as (

    select * from {{ ref('fct_orders') }}

),

bounds as (

    select
        cast(min(purchased_at) as date) as first_day,
        cast(max(greatest(purchased_at, coalesce(estimated_delivery_at, purchased_at))) as date) as last_day
    from orders

),

days as (

    {{ days_between('(select first_day from bounds)', '(select last_day from bounds)') }}

),

final as (

    select
        date_day,
        cast(extract(year from date_day) as {{ dbt.type_bigint() }}) as year,
        cast(extract(quarter from date_day) as {{ dbt.type_bigint() }}) as quarter,
        cast(extract(month from date_day) as {{ dbt.type_bigint() }}) as month,
        cast(extract(day from date_day) as {{ dbt.type_bigint() }}) as day_of_month,
        cast({{ iso_day_of_week('date_day') }} as {{ dbt.type_bigint() }}) as iso_day_of_week,
        {{ iso_day_of_week('date_day') }} >= 6 as is_weekend,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start,
        {#- Monday-based on both warehouses (BigQuery's WEEK starts on Sunday) -#}
        cast({{ dbt.dateadd('day', '1 - ' ~ iso_day_of_week('date_day'), 'date_day') }} as date) as week_start
    from days

)

select * from final
