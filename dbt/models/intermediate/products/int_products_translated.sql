{#- English category names: the translation when there is one, the Portuguese name when the
    translation table lacks it (two real categories), `unknown` when the product has none. -#}
with

products as (

    select * from {{ ref('stg_olist__products') }}

),

translations as (

    select * from {{ ref('stg_olist__category_translations') }}

),

translated as (

    select
        products.product_id,
        coalesce(products.category_name, 'unknown') as category_name,
        coalesce(
            translations.category_name_english, products.category_name, 'unknown'
        ) as category_name_english,
        products.name_length,
        products.description_length,
        products.photos_qty,
        products.weight_g,
        products.length_cm,
        products.height_cm,
        products.width_cm,
        products._loaded_at
    from products
    left join translations on products.category_name = translations.category_name

)

select * from translated
