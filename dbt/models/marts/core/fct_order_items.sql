{{
    config(
        materialized='incremental',
        unique_key=['order_id', 'order_item_id'],
        incremental_strategy='merge',
        on_schema_change='fail',
        post_hook="{{ delete_vanished(['order_id', 'order_item_id'], '
            select items.order_id, items.order_item_id
            from ' ~ ref('stg_olist__order_items') ~ ' as items
            inner join ' ~ ref('stg_olist__orders') ~ ' as orders
                on items.order_id = orders.order_id
            inner join ' ~ ref('stg_olist__customers') ~ ' as customers
                on orders.customer_id = customers.customer_id
            where ' ~ not_future_dated('orders.is_future_dated') ~ '
                and ' ~ of_touched('items.order_id') ~ '
                and ' ~ of_touched('orders.order_id') ~ '
                and ' ~ of_touched('customers.customer_id', 'touched_customers'),
            of_touched('target.order_id')) }}",
    )
}}

{#- Order-line grain with the order's status, purchase time and customer, and the
    product's category, so sales marts need no further joins. Incremental like fct_orders,
    touched orders included. -#}
with

order_items as (

    select * from {{ ref('stg_olist__order_items') }}
    where {{ of_touched('order_id') }}

),

orders as (

    select * from {{ ref('stg_olist__orders') }}
    where {{ not_future_dated() }} and {{ of_touched('order_id') }}

),

customers as (

    select * from {{ ref('stg_olist__customers') }}
    where {{ of_touched('customer_id', 'touched_customers') }}

),

products as (

    select * from {{ ref('int_products_translated') }}

),

joined as (

    select
        order_items.order_id,
        order_items.order_item_id,
        order_items.product_id,
        order_items.seller_id,
        customers.customer_unique_id,
        orders.order_status,
        orders.purchased_at,
        order_items.shipping_limit_at,
        coalesce(products.category_name_english, 'unknown') as category,
        order_items.price,
        order_items.freight_value,
        order_items.price + order_items.freight_value as item_value,
        customers.state as customer_state,
        greatest(
            order_items._loaded_at,
            orders._loaded_at,
            coalesce(customers._loaded_at, orders._loaded_at),
            coalesce(products._loaded_at, orders._loaded_at)
        ) as _loaded_at
    from order_items
    inner join orders on order_items.order_id = orders.order_id
    inner join customers on orders.customer_id = customers.customer_id
    left join products on order_items.product_id = products.product_id

),

to_build as (

    select * from joined
    where {{ rows_to_build('purchased_at') }}

),

final as (

    select
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        cast(order_item_id as {{ dbt.type_bigint() }}) as order_item_id,
        cast(product_id as {{ dbt.type_string() }}) as product_id,
        cast(seller_id as {{ dbt.type_string() }}) as seller_id,
        cast(customer_unique_id as {{ dbt.type_string() }}) as customer_unique_id,
        cast(order_status as {{ dbt.type_string() }}) as order_status,
        purchased_at,
        shipping_limit_at,
        cast(category as {{ dbt.type_string() }}) as category,
        cast(price as {{ type_money() }}) as price,
        cast(freight_value as {{ type_money() }}) as freight_value,
        cast(item_value as {{ type_money() }}) as item_value,
        cast(customer_state as {{ dbt.type_string() }}) as customer_state,
        _loaded_at
    from to_build

),

changed as (

    {{ changed_rows('final', touched_column='order_id') }}

)

select * from changed
