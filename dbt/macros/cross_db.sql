{#- Cross-database pieces the dbt.* macros do not cover. Each dispatches on the adapter so
    the models read the same on DuckDB and BigQuery. -#}

{#- A named struct: fields is a list of (name, expression) pairs. -#}
{% macro struct_of(fields) -%}
    {{ return(adapter.dispatch('struct_of')(fields)) }}
{%- endmacro %}

{% macro default__struct_of(fields) -%}
    struct({% for name, expr in fields %}{{ expr }} as {{ name }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{% macro duckdb__struct_of(fields) -%}
    struct_pack({% for name, expr in fields %}{{ name }} := {{ expr }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}


{#- Exact continuous percentiles, one row per group of `relation`: the `group_by` columns
    (a list; empty: one row over all of it), then one column per (alias, expression,
    fraction) of `percentiles`. DuckDB has the aggregate (quantile_cont), which sorts each
    group once; BigQuery's percentile_cont is analytic only, so there every row carries its
    group's value and one row per group is kept. A mart joins the result back on its group
    (with null-safe keys where a group column may be null). At scale 10 the aggregate takes
    0.30 s against 0.76 s for the window in agg_delivery_performance. -#}
{% macro percentiles_by(relation, group_by, percentiles) -%}
    {{ return(adapter.dispatch('percentiles_by')(relation, group_by, percentiles)) }}
{%- endmacro %}

{% macro default__percentiles_by(relation, group_by, percentiles) -%}
    select {% if group_by %}distinct{% endif %}
        {%- for column in group_by %}
        {{ column }},
        {%- endfor %}
        {%- for alias, expr, fraction in percentiles %}
        percentile_cont({{ expr }}, {{ fraction }}) over (
            {%- if group_by %}partition by {{ group_by | join(', ') }}{% endif -%}
        ) as {{ alias }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ relation }}
    {%- if not group_by %}
    limit 1
    {%- endif %}
{%- endmacro %}

{% macro duckdb__percentiles_by(relation, group_by, percentiles) -%}
    select
        {%- for column in group_by %}
        {{ column }},
        {%- endfor %}
        {%- for alias, expr, fraction in percentiles %}
        quantile_cont({{ expr }}, {{ fraction }}) as {{ alias }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ relation }}
    {%- if group_by %}
    group by {{ group_by | join(', ') }}
    {%- endif %}
{%- endmacro %}


{#- ISO day of week: Monday = 1 ... Sunday = 7. -#}
{% macro iso_day_of_week(date_expr) -%}
    {{ return(adapter.dispatch('iso_day_of_week')(date_expr)) }}
{%- endmacro %}

{% macro default__iso_day_of_week(date_expr) -%}
    (mod(extract(dayofweek from {{ date_expr }}) + 5, 7) + 1)
{%- endmacro %}

{% macro duckdb__iso_day_of_week(date_expr) -%}
    isodow({{ date_expr }})
{%- endmacro %}


{#- Safe ratio: null when the denominator is zero or null. -#}
{% macro ratio(numerator, denominator) -%}
    ({{ numerator }}) / nullif({{ denominator }}, 0)
{%- endmacro %}
