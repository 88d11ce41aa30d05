with

source as (

    select * from {{ source('olist', 'products') }}

),

renamed as (

    select
        product_id,
        {{ empty_to_null('product_category_name') }} as category_name,
        cast({{ empty_to_null('product_name_lenght') }} as {{ dbt.type_int() }}) as name_length,
        cast({{ empty_to_null('product_description_lenght') }} as {{ dbt.type_int() }}) as description_length,
        cast({{ empty_to_null('product_photos_qty') }} as {{ dbt.type_int() }}) as photos_qty,
        cast({{ empty_to_null('product_weight_g') }} as {{ dbt.type_int() }}) as weight_g,
        cast({{ empty_to_null('product_length_cm') }} as {{ dbt.type_int() }}) as length_cm,
        cast({{ empty_to_null('product_height_cm') }} as {{ dbt.type_int() }}) as height_cm,
        cast({{ empty_to_null('product_width_cm') }} as {{ dbt.type_int() }}) as width_cm,
        _loaded_at
    from source

)

select * from renamed
