{#- Money: two decimals on every warehouse (DuckDB and BigQuery both accept numeric(p, s)). -#}
{% macro type_money() -%}
    numeric(18, 2)
{%- endmacro %}
