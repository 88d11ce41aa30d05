{{ config(alias='orders_nested', materialized='table') }}

{#- One row per order with its items, payments and sellers as lists of named structs
    (DuckDB LIST(STRUCT), BigQuery ARRAY<STRUCT>), so order-level questions need no joins. -#}
with

orders as (

    select * from {{ ref('stg_olist__orders') }}
    where {{ not_future_dated() }}

),

customers as (

    select * from {{ ref('stg_olist__customers') }}

),

order_items as (

    select * from {{ ref('stg_olist__order_items') }}

),

order_payments as (

    select * from {{ ref('stg_olist__order_payments') }}

),

products as (

    select * from {{ ref('int_products_translated') }}

),

sellers as (

    select * from {{ ref('stg_olist__sellers') }}

),

items_nested as (

    select
        order_items.order_id,
        array_agg(
            {{ struct_of([
                ('order_item_id', 'order_items.order_item_id'),
                ('product_id', 'order_items.product_id'),
                ('category', 'products.category_name_english'),
                ('seller_id', 'order_items.seller_id'),
                ('price', 'order_items.price'),
                ('freight_value', 'order_items.freight_value'),
                ('shipping_limit_at', 'order_items.shipping_limit_at'),
            ]) }}
            order by order_items.order_item_id
        ) as items,
        count(*) as items_count,
        sum(order_items.price) as items_value,
        sum(order_items.freight_value) as freight_value
    from order_items
    left join products on order_items.product_id = products.product_id
    group by order_items.order_id

),

payments_nested as (

    select
        order_id,
        array_agg(
            {{ struct_of([
                ('payment_sequential', 'payment_sequential'),
                ('payment_type', 'payment_type'),
                ('installments', 'payment_installments'),
                ('value', 'payment_value'),
            ]) }}
            order by payment_sequential
        ) as payments,
        sum(payment_value) as payment_value
    from order_payments
    group by order_id

),

order_sellers as (

    select
        order_items.order_id,
        order_items.seller_id,
        sellers.city,
        sellers.state,
        count(*) as items_count,
        sum(order_items.price) as items_value
    from order_items
    left join sellers on order_items.seller_id = sellers.seller_id
    group by order_items.order_id, order_items.seller_id, sellers.city, sellers.state

),

sellers_nested as (

    select
        order_id,
        array_agg(
            {{ struct_of([
                ('seller_id', 'seller_id'),
                ('city', 'city'),
                ('state', 'state'),
                ('items_count', 'items_count'),
                ('items_value', 'items_value'),
            ]) }}
            order by seller_id
        ) as sellers
    from order_sellers
    group by order_id

),

joined as (

    select
        orders.order_id,
        customers.customer_unique_id,
        orders.order_status,
        orders.purchased_at,
        orders.approved_at,
        orders.delivered_to_carrier_at,
        orders.delivered_to_customer_at,
        orders.estimated_delivery_at,
        customers.state as customer_state,
        customers.city as customer_city,
        items_nested.items,
        payments_nested.payments,
        sellers_nested.sellers,
        coalesce(items_nested.items_count, 0) as items_count,
        coalesce(items_nested.items_value, 0) as items_value,
        coalesce(items_nested.freight_value, 0) as freight_value,
        coalesce(items_nested.items_value, 0) + coalesce(items_nested.freight_value, 0) as order_value,
        coalesce(payments_nested.payment_value, 0) as payment_value
    from orders
    inner join customers on orders.customer_id = customers.customer_id
    left join items_nested on orders.order_id = items_nested.order_id
    left join payments_nested on orders.order_id = payments_nested.order_id
    left join sellers_nested on orders.order_id = sellers_nested.order_id

),

final as (

    select
        joined.*,
        {{ order_measures() }}
    from joined

)

select * from final
