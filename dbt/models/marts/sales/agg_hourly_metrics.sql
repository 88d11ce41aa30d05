{{
    config(
        materialized='incremental',
        unique_key='hour_start',
        incremental_strategy='merge',
        on_schema_change='fail',
    )
}}

{#- Purchase hour grain. Incremental: only the hours that hold an order changed since the
    last build are recomputed (from all of that hour's orders). -#}
with

orders as (

    select * from {{ ref('fct_orders') }}

),

hourly as (

    select
        {{ dbt.date_trunc('hour', 'purchased_at') }} as hour_start,
        order_id,
        order_status,
        order_value,
        purchased_at,
        _loaded_at
    from orders

),

{% if builds_a_subset() %}
changed_hours as (

    select distinct hour_start
    from hourly
    where {{ rows_to_build('purchased_at') }}

),
{% endif %}

aggregated as (

    select
        hourly.hour_start,
        count(case when {{ is_placed() }} then 1 end) as orders,
        sum(case when {{ is_placed() }} then order_value else 0 end) as gmv,
        max(hourly._loaded_at) as _loaded_at
    from hourly
    {% if builds_a_subset() %}
    inner join changed_hours on hourly.hour_start = changed_hours.hour_start
    {% endif %}
    group by hourly.hour_start

),

final as (

    select
        cast(hour_start as {{ dbt.type_timestamp() }}) as hour_start,
        cast({{ timestamp_part('hour', 'hour_start') }} as {{ dbt.type_bigint() }}) as hour_of_day,
        cast(orders as {{ dbt.type_bigint() }}) as orders,
        cast(gmv as {{ type_money() }}) as gmv,
        _loaded_at
    from aggregated

)

select * from final
