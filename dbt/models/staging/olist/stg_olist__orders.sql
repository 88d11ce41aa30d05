with

source as (

    {{ latest_delivery('orders', ['order_id']) }}

),

renamed as (

    select
        order_id,
        customer_id,
        order_status,
        cast(order_purchase_timestamp as {{ dbt.type_timestamp() }}) as purchased_at,
        cast({{ empty_to_null('order_approved_at') }} as {{ dbt.type_timestamp() }}) as approved_at,
        cast({{ empty_to_null('order_delivered_carrier_date') }} as {{ dbt.type_timestamp() }})
            as delivered_to_carrier_at,
        cast({{ empty_to_null('order_delivered_customer_date') }} as {{ dbt.type_timestamp() }})
            as delivered_to_customer_at,
        cast(order_estimated_delivery_date as {{ dbt.type_timestamp() }}) as estimated_delivery_at,
        source_system,
        _batch_id,
        _loaded_at
    from source

),

flagged as (

    select
        renamed.*,
        {{ dated_after('_loaded_at', [
            'purchased_at', 'approved_at', 'delivered_to_carrier_at', 'delivered_to_customer_at',
        ]) }} as is_future_dated
    from renamed

)

select * from flagged
