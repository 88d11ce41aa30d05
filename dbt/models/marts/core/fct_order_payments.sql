{{
    config(
        materialized='incremental',
        unique_key=['order_id', 'payment_sequential'],
        incremental_strategy='merge',
        on_schema_change='fail',
        post_hook="{{ delete_vanished(['order_id', 'payment_sequential'], '
            select payments.order_id, payments.payment_sequential
            from ' ~ ref('stg_olist__order_payments') ~ ' as payments
            inner join ' ~ ref('fct_orders') ~ ' as orders
                on payments.order_id = orders.order_id
            where ' ~ of_touched('payments.order_id') ~ '
                and ' ~ of_touched('orders.order_id'),
            of_touched('target.order_id')) }}",
    )
}}

{#- Payment grain (order_id, payment_sequential): the star-schema counterpart of
    silver.orders_nested's payments list. Incremental like fct_order_items: the rows that
    differ from the table's are merged (of the touched orders only, when an incremental run
    names them), and payments whose order or row vanished are deleted by the post-hook. -#}
with

payments as (

    select * from {{ ref('stg_olist__order_payments') }}
    where {{ of_touched('order_id') }}

),

orders as (

    select * from {{ ref('fct_orders') }}
    where {{ of_touched('order_id') }}

),

final as (

    select
        cast(payments.order_id as {{ dbt.type_string() }}) as order_id,
        cast(payments.payment_sequential as {{ dbt.type_bigint() }}) as payment_sequential,
        cast(payments.payment_type as {{ dbt.type_string() }}) as payment_type,
        cast(payments.payment_installments as {{ dbt.type_bigint() }}) as payment_installments,
        cast(payments.payment_value as {{ type_money() }}) as payment_value,
        cast(orders.order_status as {{ dbt.type_string() }}) as order_status,
        orders.purchased_at
    from payments
    inner join orders on payments.order_id = orders.order_id

),

changed as (

    {{ changed_rows('final', touched_column='order_id') }}

)

select * from changed
