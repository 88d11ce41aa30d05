{#- The CSV snapshot rows and the JSON batch rows of one Olist source, unioned; a key that
    was delivered again (a later batch, a corrected export) keeps only its latest delivery. -#}
{% macro latest_delivery(table, keys) -%}
    select * from (
        select
            unioned.*,
            row_number() over (
                partition by {{ keys | join(', ') }}
                order by _loaded_at desc, source_system
            ) as _delivery_rank
        from (
            select *, 'csv' as source_system from {{ source('olist', table) }}
            union all
            select *, 'batch' as source_system from {{ source('olist', 'batch_' ~ table) }}
        ) as unioned
    ) as ranked
    where _delivery_rank = 1
{%- endmacro %}
