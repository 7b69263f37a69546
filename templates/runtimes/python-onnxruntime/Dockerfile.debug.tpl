# {{MODULE_NAME}}: {{RUNTIME}} for {{PLATFORM}}, debug image: debugpy listens on {{DEBUG_PORT}}.
# Still no build tools: wheels only, copied from the first stage.
FROM {{BASE_IMAGE}} AS deps
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY requirements.txt /tmp/requirements.txt
RUN python -m pip install --only-binary=:all: --prefix=/install -r /tmp/requirements.txt debugpy==1.8.11

FROM {{BASE_IMAGE}}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MODEL_PATH=/app/model/{{MODEL_FILE}} \
    PORT={{PORT}} \
    MAX_BATCH_ROWS={{MAX_BATCH_ROWS}}
COPY --from=deps /install /usr/local
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin moduleuser
WORKDIR /app
COPY app/ /app/app/
COPY model/ /app/model/
USER 10001
EXPOSE {{PORT}} {{DEBUG_PORT}}
CMD ["python", "-m", "debugpy", "--listen", "0.0.0.0:{{DEBUG_PORT}}", "-m", "app.main"]
