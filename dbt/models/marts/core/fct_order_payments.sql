{#- Payment grain (order_id, payment_sequential): the star-schema counterpart of
    silver.orders_nested's payments list. -#}
with

payments as (

    select * from {{ ref('stg_olist__order_payments') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

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

)

select * from final
