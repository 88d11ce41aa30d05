# syntax=docker/dockerfile:1
# The image Cloud Run jobs run flow runs in (deployments/gcp/prefect.yaml, docs/gcp.md).
# The code is baked in: deployments pull nothing, they only change to /opt/olist.
#   gcloud builds submit --tag "$OLIST_IMAGE" .      (Cloud Run wants linux/amd64)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Flow runs write reports under OLIST_HOME (a non-root user owns it); the run's scratch
# DuckDB file and dbt's target/ go to a temporary folder deleted when the run ends:
# everything the platform remembers is in BigQuery (docs/gcp.md, section 12).
RUN useradd --create-home --uid 10001 olist \
    && mkdir -p /opt/olist \
    && chown olist:olist /opt/olist
WORKDIR /opt/olist

# Dependencies first, from the pinned set, so a code change does not reinstall them.
# pyproject.toml names README.md as its readme, so the build needs it; the project itself is
# still empty here and is installed for real once the code is in.
COPY pyproject.toml constraints.txt README.md ./
RUN pip install -c constraints.txt .

COPY --chown=olist:olist prefect.yaml ./
COPY --chown=olist:olist dbt ./dbt
COPY --chown=olist:olist contracts ./contracts
COPY --chown=olist:olist expectations ./expectations
COPY --chown=olist:olist ml ./ml
COPY --chown=olist:olist cli ./cli
COPY --chown=olist:olist config ./config
COPY --chown=olist:olist ingestion ./ingestion
COPY --chown=olist:olist quality ./quality
COPY --chown=olist:olist reporting ./reporting
COPY --chown=olist:olist warehouse ./warehouse
COPY --chown=olist:olist synthetic ./synthetic
COPY --chown=olist:olist flows ./flows
COPY --chown=olist:olist deployments ./deployments
# Editable, as on a laptop: one copy of the code, in /opt/olist, where the deployments'
# entrypoints (flows/<file>.py) are loaded from.
RUN pip install --no-deps -c constraints.txt -e .

# OLIST_HOME: where config.settings puts the dbt project and run files. The rest are
# config/settings.py RUNTIME_ENV_DEFAULTS (telemetry off, slow ephemeral start, GX progress
# bars), baked in because nothing calls configure_runtime() before `prefect flow-run execute`.
ENV OLIST_HOME=/opt/olist \
    OLIST_DBT_TARGET=bigquery \
    PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS=90 \
    PREFECT_SERVER_ANALYTICS_ENABLED=false \
    DO_NOT_TRACK=true \
    MLFLOW_DISABLE_TELEMETRY=true \
    MLFLOW_ENABLE_TELEMETRY=false \
    PREFECT_LOGGING_LEVEL=INFO \
    GX_ANALYTICS_ENABLED=false \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false \
    TQDM_DISABLE=1

USER olist

# Fails the build on a project dbt cannot parse; parsing the bigquery target needs no
# credentials and no network.
RUN dbt parse --project-dir dbt --profiles-dir dbt --target bigquery

# No CMD: the Cloud Run worker sets the container command (`prefect flow-run execute`).
