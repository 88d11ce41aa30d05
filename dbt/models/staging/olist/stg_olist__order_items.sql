with

source as (

    {{ latest_delivery('order_items', ['order_id', 'order_item_id']) }}

),

renamed as (

    select
        order_id,
        cast(order_item_id as {{ dbt.type_int() }}) as order_item_id,
        product_id,
        seller_id,
        cast(shipping_limit_date as {{ dbt.type_timestamp() }}) as shipping_limit_at,
        cast(price as {{ type_money() }}) as price,
        cast(freight_value as {{ type_money() }}) as freight_value,
        _loaded_at
    from source

)

select * from renamed
