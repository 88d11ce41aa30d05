{#- A 64-bit float on every warehouse. dbt.type_float() is FLOAT64 on BigQuery but `float`
    on DuckDB, which is 32-bit REAL there: coordinates lost their 7th significant digit. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    {{ dbt.type_float() }}
{%- endmacro %}

{% macro duckdb__type_double() -%}
    double
{%- endmacro %}
