with

csv_rows as (

    select * from {{ source('olist', 'order_items') }}

),

batch_rows as (

    select * from {{ source('olist', 'batch_order_items') }}

),

unioned as (

    select *, 'csv' as source_system from csv_rows
    union all
    select *, 'batch' as source_system from batch_rows

),

source as (

    {#- a record delivered again (a later batch, a corrected export) replaces the earlier one #}
    select * from (
        select
            unioned.*,
            row_number() over (partition by order_id, order_item_id order by _loaded_at desc, source_system) as _delivery_rank
        from unioned
    ) as ranked
    where _delivery_rank = 1

),

renamed as (

    select
        order_id,
        cast(order_item_id as {{ dbt.type_int() }}) as order_item_id,
        product_id,
        seller_id,
        cast(shipping_limit_date as {{ dbt.type_timestamp() }}) as shipping_limit_at,
        cast(price as {{ type_money() }}) as price,
        cast(freight_value as {{ type_money() }}) as freight_value
    from source

)

select * from renamed
