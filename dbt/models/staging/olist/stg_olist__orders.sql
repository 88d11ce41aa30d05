with

csv_rows as (

    select * from {{ source('olist', 'orders') }}

),

batch_rows as (

    select * from {{ source('olist', 'batch_orders') }}

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
            row_number() over (partition by order_id order by _loaded_at desc, source_system) as _delivery_rank
        from unioned
    ) as ranked
    where _delivery_rank = 1

),

renamed as (

    select
        order_id,
        customer_id,
        order_status,
        cast(order_purchase_timestamp as {{ dbt.type_timestamp() }}) as purchased_at,
        cast({{ empty_to_null('order_approved_at') }} as {{ dbt.type_timestamp() }}) as approved_at,
        cast({{ empty_to_null('order_delivered_carrier_date') }} as {{ dbt.type_timestamp() }}) as delivered_to_carrier_at,
        cast({{ empty_to_null('order_delivered_customer_date') }} as {{ dbt.type_timestamp() }}) as delivered_to_customer_at,
        cast(order_estimated_delivery_date as {{ dbt.type_timestamp() }}) as estimated_delivery_at,
        source_system,
        _batch_id,
        _loaded_at
    from source

)

select * from renamed
