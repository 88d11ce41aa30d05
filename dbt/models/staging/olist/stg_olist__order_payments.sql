with

csv_rows as (

    select * from {{ source('olist', 'order_payments') }}

),

batch_rows as (

    select * from {{ source('olist', 'batch_order_payments') }}

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
            row_number() over (partition by order_id, payment_sequential order by _loaded_at desc, source_system) as _delivery_rank
        from unioned
    ) as ranked
    where _delivery_rank = 1

),

renamed as (

    select
        order_id,
        cast(payment_sequential as {{ dbt.type_int() }}) as payment_sequential,
        payment_type,
        cast(payment_installments as {{ dbt.type_int() }}) as payment_installments,
        cast(payment_value as {{ type_money() }}) as payment_value
    from source

)

select * from renamed
