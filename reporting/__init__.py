"""What people read: the quality and model reports, the KPI dashboard, the dbt docs site."""
