with

source as (

    {{ latest_delivery('customers', ['customer_id']) }}

),

renamed as (

    select
        customer_id,
        customer_unique_id,
        customer_zip_code_prefix as zip_code_prefix,
        lower(trim(customer_city)) as city,
        upper(trim(customer_state)) as state,
        _loaded_at
    from source

)

select * from renamed
