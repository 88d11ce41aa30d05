"""Customer-grain churn models: point-in-time features, forward validation, MLflow registry."""
