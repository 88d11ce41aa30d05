{#- Period marts (a month's rows computed from all of that month's orders) that a batch run
    rebuilds for the periods its orders fall in, instead of every period ever sold.

    `touched_periods(grain, orders)`: the start dates ('YYYY-MM-DD') of the `grain` ('day',
    'month' or 'year') periods an incremental build recomputes, when the run names its
    touched orders (`touched_orders`) and their purchase days before this build
    (`touched_days`, warehouse/touched.py, passed only when the tables are what the
    previous run published): those days' periods, and the periods of the touched orders in
    `orders` (the order facts as this run rebuilt them). An order dated again, or gone,
    leaves its former period to rebuild; only the days before the build name it. None
    (every period) without those vars: a full build, a backfill day, a build by hand.

    Why a list of literals, read when the model compiles, and not a subquery: the same
    predicate then filters both facts tables before their join on both engines, and DuckDB
    reads only the matching rows of the scan. -#}
{% macro touched_periods(grain, orders) -%}
    {%- set order_ids = touched_keys() -%}
    {%- set before = touched_keys('touched_days') -%}
    {%- if order_ids is none or before is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set days = before | list -%}
    {%- if execute and order_ids | length > 0 -%}
        {%- set now_query -%}
            select distinct cast(cast(purchased_at as date) as {{ dbt.type_string() }}) as purchase_day
            from {{ orders }}
            where {{ of_touched('order_id') }}
        {%- endset -%}
        {%- set days = days + (run_query(now_query).columns[0].values() | list) -%}
    {%- endif -%}
    {%- set periods = [] -%}
    {%- for day in days -%}
        {%- if grain == 'year' -%}
            {%- set start = day[:4] ~ '-01-01' -%}
        {%- elif grain == 'month' -%}
            {%- set start = day[:7] ~ '-01' -%}
        {%- else -%}
            {%- set start = day[:10] -%}
        {%- endif -%}
        {%- if start not in periods -%}
            {%- do periods.append(start) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(periods | sort) }}
{%- endmacro %}

{#- A predicate: the date `period_expr` is one of `periods` (`true` when None: every
    period; `false` when none). -#}
{% macro in_periods(period_expr, periods) -%}
    {%- if periods is none -%}
        true
    {%- elif periods | length == 0 -%}
        false
    {%- else -%}
        {{ period_expr }} in ({% for p in periods %}cast('{{ p }}' as date){% if not loop.last %}, {% endif %}{% endfor %})
    {%- endif -%}
{%- endmacro %}

{#- The purchase month of `timestamp_expr`, as the monthly marts key it. -#}
{% macro purchase_month(timestamp_expr) -%}
    cast({{ dbt.date_trunc('month', timestamp_expr) }} as date)
{%- endmacro %}

{#- The rows a monthly mart merges: with `months` (touched_periods) all of the rows it
    computed for them; without, those of `cte` the table does not already hold exactly
    (rows_to_build.sql's changed_rows: every row on a full build). -#}
{% macro rows_of_months(cte, months) -%}
    {%- if months is none -%}
    {{ changed_rows(cte) }}
    {%- else -%}
    select * from {{ cte }}
    {%- endif -%}
{%- endmacro %}

{#- Post-hook of a monthly mart: delete its rows, in the touched months (every month
    without them), whose key (`keys`) the facts no longer make; `current_keys` selects the
    keys the model builds now, under the same names, and has a `month_start` column.
    rows_to_build.sql's delete_vanished: the DELETE runs only when some row vanished. -#}
{% macro delete_vanished_in_months(keys, current_keys) -%}
    {%- set months = touched_periods('month', ref('fct_orders')) -%}
    {{ delete_vanished(
        keys,
        'select * from (' ~ current_keys ~ ') as built where ' ~ in_periods('built.month_start', months),
        in_periods('target.month_start', months)
    ) }}
{%- endmacro %}
