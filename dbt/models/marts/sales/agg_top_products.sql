{#- Best sellers by revenue per day, month and year; the top `top_products_limit` (var,
    default 100) of each period, rank 1 = most revenue (ties: more units, then product_id). -#}
with

order_items as (

    select * from {{ ref('fct_order_items') }}
    where order_status = 'delivered'

),

{% set grains = ['day', 'month', 'year'] %}
{% for grain in grains %}
    by_{{ grain }} as (

        select
            '{{ grain }}' as grain,
            cast({{ dbt.date_trunc(grain, 'purchased_at') }} as date) as period_start,
            product_id,
            category,
            count(*) as units,
            sum(price) as revenue
        from order_items
        group by cast({{ dbt.date_trunc(grain, 'purchased_at') }} as date), product_id, category

    ),
{% endfor %}

unioned as (

    {% for grain in grains %}
        select * from by_{{ grain }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

ranked as (

    select
        unioned.*,
        row_number() over (
            partition by unioned.grain, unioned.period_start
            order by unioned.revenue desc, unioned.units desc, unioned.product_id asc
        ) as revenue_rank
    from unioned

),

final as (

    select
        cast(grain as {{ dbt.type_string() }}) as grain,
        period_start,
        cast(product_id as {{ dbt.type_string() }}) as product_id,
        cast(category as {{ dbt.type_string() }}) as category,
        cast(units as {{ dbt.type_bigint() }}) as units,
        cast(revenue as {{ type_money() }}) as revenue,
        cast(revenue_rank as {{ dbt.type_bigint() }}) as revenue_rank
    from ranked
    where revenue_rank <= {{ var('top_products_limit') }}

)

select * from final
