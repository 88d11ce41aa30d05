{#- The incremental watermark: rows whose parts were loaded after the newest load already
    in this model (load times only grow, so nothing loaded later can be missed). -#}
{% macro loaded_since_last_build(column='_loaded_at') -%}
    {{ column }} > (select max(_loaded_at) from {{ this }})
{%- endmacro %}
