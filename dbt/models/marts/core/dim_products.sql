with

products as (

    select * from {{ ref('int_products_translated') }}

),

final as (

    select
        cast(product_id as {{ dbt.type_string() }}) as product_id,
        cast(category_name as {{ dbt.type_string() }}) as category_name,
        cast(category_name_english as {{ dbt.type_string() }}) as category_name_english,
        cast(name_length as {{ dbt.type_bigint() }}) as name_length,
        cast(description_length as {{ dbt.type_bigint() }}) as description_length,
        cast(photos_qty as {{ dbt.type_bigint() }}) as photos_qty,
        cast(weight_g as {{ dbt.type_bigint() }}) as weight_g,
        cast(length_cm as {{ dbt.type_bigint() }}) as length_cm,
        cast(height_cm as {{ dbt.type_bigint() }}) as height_cm,
        cast(width_cm as {{ dbt.type_bigint() }}) as width_cm,
        cast(length_cm * height_cm * width_cm as {{ dbt.type_bigint() }}) as volume_cm3
    from products

)

select * from final
