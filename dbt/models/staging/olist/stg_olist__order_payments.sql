with

source as (

    {{ latest_delivery('order_payments', ['order_id', 'payment_sequential']) }}

),

renamed as (

    select
        order_id,
        cast(payment_sequential as {{ dbt.type_int() }}) as payment_sequential,
        payment_type,
        cast(payment_installments as {{ dbt.type_int() }}) as payment_installments,
        cast(payment_value as {{ type_money() }}) as payment_value,
        _loaded_at
    from source

)

select * from renamed
