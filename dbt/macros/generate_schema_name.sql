{#- Medallion schemas are exact names (silver, gold), not "<target>_<custom>".
    Write-audit-publish: the platform builds the gold marts into var gold_schema
    (`gold_audit`), checks them there, and only then publishes them to `gold`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif custom_schema_name | trim == 'gold' -%}
        {{ var('gold_schema', 'gold') }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
