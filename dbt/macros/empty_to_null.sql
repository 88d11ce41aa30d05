{#- Bronze keeps text as delivered; empty strings mean "missing". -#}
{% macro empty_to_null(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}
