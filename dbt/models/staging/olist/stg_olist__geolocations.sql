with

source as (

    select * from {{ source('olist', 'geolocation') }}

),

renamed as (

    select
        geolocation_zip_code_prefix as zip_code_prefix,
        cast(geolocation_lat as {{ type_double() }}) as latitude,
        cast(geolocation_lng as {{ type_double() }}) as longitude,
        lower(trim(geolocation_city)) as city,
        upper(trim(geolocation_state)) as state
    from source

)

select * from renamed
