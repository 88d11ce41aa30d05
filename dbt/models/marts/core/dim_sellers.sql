with

sellers as (

    select * from {{ ref('stg_olist__sellers') }}

),

geolocations as (

    select * from {{ ref('int_geolocations_aggregated_to_zip_prefixes') }}

),

order_items as (

    select * from {{ ref('fct_order_items') }}

),

sales as (

    select
        seller_id,
        min(purchased_at) as first_sale_at,
        max(purchased_at) as last_sale_at,
        count(distinct order_id) as orders_count,
        count(*) as items_count,
        sum(case when order_status = 'delivered' then price else 0 end) as revenue
    from order_items
    where {{ is_placed() }}
    group by seller_id

),

final as (

    select
        cast(sellers.seller_id as {{ dbt.type_string() }}) as seller_id,
        cast(sellers.zip_code_prefix as {{ dbt.type_string() }}) as zip_code_prefix,
        cast(sellers.city as {{ dbt.type_string() }}) as seller_city,
        cast(sellers.state as {{ dbt.type_string() }}) as seller_state,
        cast(geolocations.latitude as {{ type_coordinate() }}) as latitude,
        cast(geolocations.longitude as {{ type_coordinate() }}) as longitude,
        sales.first_sale_at,
        sales.last_sale_at,
        cast(coalesce(sales.orders_count, 0) as {{ dbt.type_bigint() }}) as orders_count,
        cast(coalesce(sales.items_count, 0) as {{ dbt.type_bigint() }}) as items_count,
        cast(coalesce(sales.revenue, 0) as {{ type_money() }}) as revenue
    from sellers
    left join geolocations on sellers.zip_code_prefix = geolocations.zip_code_prefix
    left join sales on sellers.seller_id = sales.seller_id

)

select * from final
