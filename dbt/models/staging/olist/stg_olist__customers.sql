with

csv_rows as (

    select * from {{ source('olist', 'customers') }}

),

batch_rows as (

    select * from {{ source('olist', 'batch_customers') }}

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
            row_number() over (partition by customer_id order by _loaded_at desc, source_system) as _delivery_rank
        from unioned
    ) as ranked
    where _delivery_rank = 1

),

renamed as (

    select
        customer_id,
        customer_unique_id,
        customer_zip_code_prefix as zip_code_prefix,
        lower(trim(customer_city)) as city,
        upper(trim(customer_state)) as state
    from source

)

select * from renamed
