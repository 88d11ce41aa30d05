{{
    config(
        materialized='incremental',
        unique_key='hour_start',
        incremental_strategy='merge',
        on_schema_change='fail',
        post_hook="{{ delete_vanished(['hour_start'], '
            select cast(' ~ dbt.date_trunc('hour', 'purchased_at') ~ ' as ' ~ dbt.type_timestamp() ~ ') as hour_start
            from ' ~ ref('fct_orders')) }}",
    )
}}

{#- Purchase hour grain. Incremental: every hour is computed and the hours that differ from
    the table's are merged; hours left without an order are deleted by the post-hook. A
    backfill day recomputes the hours of that day's orders (from all of each hour's
    orders). -#}
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
hours_to_build as (

    select distinct hour_start
    from hourly
    where {{ rows_to_build('purchased_at') }}

),
{% endif %}

aggregated as (

    select
        hourly.hour_start,
        count(case when {{ is_placed() }} then 1 end) as orders,
        sum(case when {{ is_placed() }} then hourly.order_value else 0 end) as gmv,
        max(hourly._loaded_at) as _loaded_at
    from hourly
    {% if builds_a_subset() %}
    inner join hours_to_build on hourly.hour_start = hours_to_build.hour_start
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

),

changed as (

    {{ changed_rows('final') }}

)

select * from changed
