with

order_items as (

    select * from {{ ref('stg_olist__order_items') }}

),

aggregated as (

    select
        order_id,
        count(*) as items_count,
        sum(price) as items_value,
        sum(freight_value) as freight_value,
        max(_loaded_at) as _loaded_at
    from order_items
    group by order_id

)

select * from aggregated
