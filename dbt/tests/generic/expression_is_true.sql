{#- Rows where a boolean expression over the model's columns is false (an arithmetic
    invariant such as `order_value = items_value + freight_value`). -#}
{% test expression_is_true(model, expression, where_clause=none) %}

select *
from {{ model }}
where not ({{ expression }})
    {% if where_clause %}and ({{ where_clause }}){% endif %}

{% endtest %}
