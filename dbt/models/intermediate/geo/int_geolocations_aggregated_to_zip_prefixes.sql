{{ config(materialized='table') }}

{#- One point per zip prefix: the median of the points that fall inside Brazil's bounding
    box (Olist geolocation has ~1M raw points, duplicates and a few abroad). -#}
with

geolocations as (

    select * from {{ ref('stg_olist__geolocations') }}

),

in_brazil as (

    select *
    from geolocations
    where latitude between {{ var('brazil_lat_min') }} and {{ var('brazil_lat_max') }}
        and longitude between {{ var('brazil_lng_min') }} and {{ var('brazil_lng_max') }}

),

medians as (

    {{ percentiles_by(
        'in_brazil',
        ['zip_code_prefix'],
        [('median_latitude', 'latitude', 0.5), ('median_longitude', 'longitude', 0.5)]
    ) }}

),

city_counts as (

    select
        zip_code_prefix,
        city,
        state,
        count(*) as points,
        row_number() over (
            partition by zip_code_prefix order by count(*) desc, city, state asc
        ) as popularity_rank
    from in_brazil
    group by zip_code_prefix, city, state

),

aggregated as (

    select
        in_brazil.zip_code_prefix,
        count(*) as points
    from in_brazil
    group by in_brazil.zip_code_prefix

),

final as (

    select
        aggregated.zip_code_prefix,
        medians.median_latitude as latitude,
        medians.median_longitude as longitude,
        city_counts.city,
        city_counts.state,
        aggregated.points
    from aggregated
    inner join medians on aggregated.zip_code_prefix = medians.zip_code_prefix
    inner join city_counts
        on aggregated.zip_code_prefix = city_counts.zip_code_prefix
        and city_counts.popularity_rank = 1

)

select * from final
