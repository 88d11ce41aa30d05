{#- Tests of an incremental run scoped to the rows it loaded (a batch costs what the batch
    holds). A data test configured with `where: "__new_rows__"` reads only the
    rows of its model with `_loaded_at > var('loaded_after')` when the run passes that var
    (`olist incremental` passes the load time up to which gold holds every row, so rows a
    failed earlier run left unpublished in the audit schema are checked again); without the
    var (the daily and full builds) the placeholder is dropped and the test reads the whole
    model, exactly as before. Any other `where` works as dbt's own.

    dbt's way to template a `where` with a macro is to override `get_where_subquery`
    (https://docs.getdbt.com/reference/resource-configs/where, "Custom logic"): the YAML
    rendering context has no custom macros. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where and '__new_rows__' in where -%}
        {%- set after = var('loaded_after', none) -%}
        {%- if after -%}
            {%- set where = where | replace(
                '__new_rows__',
                "_loaded_at > cast('" ~ after ~ "' as " ~ dbt.type_timestamp() ~ ")"
            ) -%}
        {%- else -%}
            {%- set where = where | replace('__new_rows__', '') | trim -%}
        {%- endif -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
        (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
