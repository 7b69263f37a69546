# {{MODULE_NAME}}: {{RUNTIME}} for {{PLATFORM}}, debug image: the inspector listens on {{DEBUG_PORT}}.
FROM {{BASE_IMAGE}} AS deps
WORKDIR /build
COPY package.json ./
RUN npm install --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM {{BASE_IMAGE}}
ENV NODE_ENV=development \
    MODEL_PATH=/app/model/{{MODEL_FILE}} \
    PORT={{PORT}} \
    MAX_BATCH_ROWS={{MAX_BATCH_ROWS}}
WORKDIR /app
COPY --from=deps /build/node_modules ./node_modules
COPY app/ ./app/
COPY model/ ./model/
USER node
EXPOSE {{PORT}} {{DEBUG_PORT}}
CMD ["node", "--inspect=0.0.0.0:{{DEBUG_PORT}}", "app/server.js"]
