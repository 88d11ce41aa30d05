{#- Contract types both DuckDB and BigQuery accept (BigQuery has no `double`, DuckDB no
    `float64`), so ratios and coordinates are fixed-point decimals. -#}
{% macro type_money() -%}
    numeric(18, 2)
{%- endmacro %}

{% macro type_rate() -%}
    numeric(18, 4)
{%- endmacro %}

{% macro type_coordinate() -%}
    numeric(18, 6)
{%- endmacro %}
