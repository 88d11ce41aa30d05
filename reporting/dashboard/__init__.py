"""The KPI dashboard over the published gold marts (Streamlit): ``make dashboard``."""
