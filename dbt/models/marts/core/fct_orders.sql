{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='merge',
        on_schema_change='fail',
        post_hook="{{ delete_vanished(['order_id'], '
            select orders.order_id
            from ' ~ ref('stg_olist__orders') ~ ' as orders
            inner join ' ~ ref('stg_olist__customers') ~ ' as customers
                on orders.customer_id = customers.customer_id
            where ' ~ not_future_dated('orders.is_future_dated') ~ '
                and ' ~ of_touched('orders.order_id') ~ '
                and ' ~ of_touched('customers.customer_id', 'touched_customers'),
            of_touched('target.order_id')) }}",
    )
}}

{#- Incremental: every order is computed (only the touched ones when an incremental run
    names them), and the ones that differ from the table's row (new, re-delivered,
    corrected, or with a part removed) are merged; orders no longer delivered are deleted by
    the post-hook (see rows_to_build.sql). -#}
with

orders as (

    select * from {{ ref('stg_olist__orders') }}
    where {{ not_future_dated() }} and {{ of_touched('order_id') }}

),

customers as (

    select * from {{ ref('stg_olist__customers') }}
    where {{ of_touched('customer_id', 'touched_customers') }}

),

items as (

    select * from {{ ref('int_order_items_aggregated_to_orders') }}
    where {{ of_touched('order_id') }}

),

payments as (

    select * from {{ ref('int_order_payments_aggregated_to_orders') }}
    where {{ of_touched('order_id') }}

),

reviews as (

    select * from {{ ref('int_order_reviews_latest_per_order') }}
    where {{ of_touched('order_id') }}

),

joined as (

    select
        orders.order_id,
        customers.customer_unique_id,
        orders.customer_id,
        orders.order_status,
        orders.purchased_at,
        orders.approved_at,
        orders.delivered_to_carrier_at,
        orders.delivered_to_customer_at,
        orders.estimated_delivery_at,
        coalesce(items.items_count, 0) as items_count,
        coalesce(items.items_value, 0) as items_value,
        coalesce(items.freight_value, 0) as freight_value,
        coalesce(items.items_value, 0) + coalesce(items.freight_value, 0) as order_value,
        coalesce(payments.payment_value, 0) as payment_value,
        payments.main_payment_type,
        coalesce(payments.max_installments, 0) as max_installments,
        coalesce(payments.used_voucher, false) as used_voucher,
        reviews.review_score,
        coalesce(reviews.has_comment, false) as review_has_comment,
        reviews.answered_at as review_answered_at,
        customers.state as customer_state,
        customers.city as customer_city,
        greatest(
            orders._loaded_at,
            coalesce(customers._loaded_at, orders._loaded_at),
            coalesce(items._loaded_at, orders._loaded_at),
            coalesce(payments._loaded_at, orders._loaded_at),
            coalesce(reviews._loaded_at, orders._loaded_at)
        ) as _loaded_at
    from orders
    inner join customers on orders.customer_id = customers.customer_id
    left join items on orders.order_id = items.order_id
    left join payments on orders.order_id = payments.order_id
    left join reviews on orders.order_id = reviews.order_id

),

measured as (

    select
        joined.*,
        {{ order_measures() }}
    from joined
    where {{ rows_to_build('purchased_at') }}

),

final as (

    select
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        cast(customer_unique_id as {{ dbt.type_string() }}) as customer_unique_id,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        cast(order_status as {{ dbt.type_string() }}) as order_status,
        purchased_at,
        approved_at,
        delivered_to_carrier_at,
        delivered_to_customer_at,
        estimated_delivery_at,
        cast(items_count as {{ dbt.type_bigint() }}) as items_count,
        cast(items_value as {{ type_money() }}) as items_value,
        cast(freight_value as {{ type_money() }}) as freight_value,
        cast(order_value as {{ type_money() }}) as order_value,
        cast(payment_value as {{ type_money() }}) as payment_value,
        payment_matches,
        cast(main_payment_type as {{ dbt.type_string() }}) as main_payment_type,
        cast(max_installments as {{ dbt.type_bigint() }}) as max_installments,
        used_voucher,
        cast(delivery_days as {{ dbt.type_bigint() }}) as delivery_days,
        cast(delay_days as {{ dbt.type_bigint() }}) as delay_days,
        is_late,
        cast(review_score as {{ dbt.type_bigint() }}) as review_score,
        review_has_comment,
        review_answered_at,
        cast(customer_state as {{ dbt.type_string() }}) as customer_state,
        cast(customer_city as {{ dbt.type_string() }}) as customer_city,
        _loaded_at
    from measured

),

changed as (

    {{ changed_rows('final', touched_column='order_id') }}

)

select * from changed
