{{
    config(
        materialized='incremental',
        unique_key='customer_unique_id',
        incremental_strategy='merge',
        on_schema_change='fail',
        post_hook="{{ delete_customers_without_orders(ref('fct_orders')) }}",
    )
}}

{#- Incremental (a batch costs what the batch holds): only the customers whose row can
    have changed are rebuilt, each from all of its orders, and merged.

    Which ones, when `olist incremental` names the orders it touched (rows_to_build.sql's
    `touched_orders`) and the people they belonged to before this build (`touched_people`,
    passed only when the table is what the previous run published: warehouse/touched.py):
    the owners of those orders, now and before. A batch changes no other order, so no other
    customer's row; an order that changed hands leaves its former owner's row to rebuild.
    Cost: a semi-join of fct_orders with those people, and the rebuild of their rows.

    Otherwise (a build without those vars): those whose order count, spend, first or last
    purchase or latest load time (`_loaded_at`, the table's watermark) no longer match
    fct_orders. A new or re-delivered order, or a changed customer row, moves the latest
    load time past the table's; an order that vanished, or moved to another person, changes
    the count; an order that lost a part (a corrected items, payments or reviews export)
    changes its value or moves its load time back, which no watermark sees
    (rows_to_build.sql). The rest of a row (the latest state and city) changes only with a
    new delivery, so comparing these five finds every customer a full build would change.
    Cost: a hash aggregate over five columns of fct_orders joined to the table's rows (0.8 s
    of the 1.3 s this model took in a scale-10 batch). A `_loaded_at > watermark` filter
    alone would read one column instead of five, but would keep a customer whose order
    vanished or lost a part.

    Either way customers left without any order are deleted by the post-hook. A backfill
    day (`partition_day`) and a full build rebuild every customer. -#}
{%- set only_changed = is_incremental() and not builds_a_subset() %}
{%- set people = touched_keys('touched_people') if only_changed else none %}
{%- set only_touched = people is not none and touched_keys() is not none %}
with

orders as (

    select * from {{ ref('fct_orders') }}

),

{% if only_touched %}
changed_customers as (

    select customer_unique_id
    from orders
    where {{ of_touched('order_id') }}

    union distinct

    select customer_unique_id
    from {{ this }}
    where {{ of_touched('customer_unique_id', 'touched_people') }}

),

{% elif only_changed %}
current_totals as (

    select
        customer_unique_id,
        cast(count(*) as {{ dbt.type_bigint() }}) as orders_count,
        cast(
            sum(case when {{ is_placed() }} then order_value else 0 end) as {{ type_money() }}
        ) as spend,
        min(purchased_at) as first_order_at,
        max(purchased_at) as last_order_at,
        max(_loaded_at) as _loaded_at
    from orders
    group by customer_unique_id

),

changed_customers as (

    select current_totals.customer_unique_id
    from current_totals
    left join {{ this }} as built
        on current_totals.customer_unique_id = built.customer_unique_id
    where
        built.customer_unique_id is null
        or built.orders_count <> current_totals.orders_count
        or built.spend <> current_totals.spend
        or built.first_order_at <> current_totals.first_order_at
        or built.last_order_at <> current_totals.last_order_at
        or built._loaded_at <> current_totals._loaded_at

),

{% endif %}
orders_to_build as (

    select orders.*
    from orders
    {%- if only_touched or only_changed %}
    inner join changed_customers
        on orders.customer_unique_id = changed_customers.customer_unique_id
    {%- endif %}

),

ranked as (

    select
        orders_to_build.*,
        row_number() over (
            partition by orders_to_build.customer_unique_id
            order by orders_to_build.purchased_at desc, orders_to_build.order_id asc
        ) as recency_rank
    from orders_to_build

),

aggregated as (

    select
        customer_unique_id,
        min(purchased_at) as first_order_at,
        max(purchased_at) as last_order_at,
        count(*) as orders_count,
        sum(case when {{ is_placed() }} then order_value else 0 end) as spend,
        max(case when recency_rank = 1 then customer_state end) as customer_state,
        max(case when recency_rank = 1 then customer_city end) as customer_city,
        max(_loaded_at) as _loaded_at
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
        cast(customer_city as {{ dbt.type_string() }}) as customer_city,
        _loaded_at
    from aggregated

)

select * from final
