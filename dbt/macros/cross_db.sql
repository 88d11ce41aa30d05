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


{#- Exact continuous percentile as a window function (BigQuery has no aggregate form). -#}
{% macro percentile_over(expr, fraction, partition_by=none) -%}
    {{ return(adapter.dispatch('percentile_over')(expr, fraction, partition_by)) }}
{%- endmacro %}

{% macro default__percentile_over(expr, fraction, partition_by) -%}
    percentile_cont({{ expr }}, {{ fraction }}) over ({% if partition_by %}partition by {{ partition_by }}{% endif %})
{%- endmacro %}

{% macro duckdb__percentile_over(expr, fraction, partition_by) -%}
    quantile_cont({{ expr }}, {{ fraction }}) over ({% if partition_by %}partition by {{ partition_by }}{% endif %})
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
